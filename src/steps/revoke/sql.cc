// The revoke step's SQL (see revoke_sql.h).
//
// PostgreSQL facts this relies on: a superuser's REVOKE acts as the object's
// owner, so it removes only the items the owner granted; items other grantors
// granted go when their grantor loses its grant option (CASCADE), or are
// revoked as that grantor (SET ROLE). A table-level REVOKE also revokes the
// same privileges on every column; on a table whose relacl is NULL only the
// column form is used, so relacl stays NULL. GRANT and REVOKE change catalog
// rows only: they take no lock on the table (readers and writers go on).
#include "steps/revoke/sql.h"

#include <algorithm>
#include <map>

#include "fmt/format.h"
#include "sql/quote.h"
#include "sql/template.h"
#include "util/text.h"

namespace dbsplit::steps::revoke {
namespace {

using acl::AclItem;
using acl::granteeSql;

std::string trimmed(std::string s) {
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

std::string render(const std::string& path, const std::map<std::string, std::string>& values) {
  return trimmed(sql::renderTemplate(path, values));
}

void addUnique(std::vector<std::string>& list, const std::string& v) {
  if (std::find(list.begin(), list.end(), v) == list.end()) list.push_back(v);
}

std::string granteeList(const std::vector<std::string>& grantees) {
  std::vector<std::string> quoted;
  for (const auto& g : grantees) quoted.push_back(granteeSql(g));
  return util::join(quoted, ", ");
}

std::string asRole(const std::string& role, const std::string& statements) {
  return render("ownership/as_role.sql",
                {{"role", sql::quoteIdent(role)}, {"statements", statements}});
}

// An owner's statement: as it is for a superuser (whose GRANT and REVOKE act
// as the owner), under SET ROLE for a member (acl::Actor).
std::string asOwner(const std::string& owner, const std::string& statements, acl::Actor actor) {
  return actor == acl::Actor::kSuperuser ? statements : asRole(owner, statements);
}

std::string revokeTable(const std::string& table, const std::string& privileges,
                        const std::vector<std::string>& grantees) {
  return render(
      "ownership/revoke.sql",
      {{"privileges", privileges}, {"table", table}, {"grantees", granteeList(grantees)}});
}

// Privileges of `item` split into those held without and with grant option.
std::vector<std::pair<std::string, bool>> privilegeGroups(const AclItem& item) {
  std::vector<std::string> plain, grantable;
  for (const auto& p : item.privileges) (item.grantable.count(p) ? grantable : plain).push_back(p);
  std::vector<std::pair<std::string, bool>> out;
  if (!plain.empty()) out.emplace_back(util::join(plain, ", "), false);
  if (!grantable.empty()) out.emplace_back(util::join(grantable, ", "), true);
  return out;
}

// Schema ACL: revoke from `losing` (non-owner grantors first), and rebuild.
std::vector<std::string> revokeSchema(const SchemaAcl& s, const std::set<std::string>& losing,
                                      acl::Actor actor) {
  const std::string schema = sql::quoteIdent(s.name);
  std::vector<std::string> grantors;
  std::map<std::string, std::vector<std::string>> by_grantor;
  for (const auto& i : s.items) {
    if (!losing.count(i.grantee) || i.grantee == s.owner) continue;
    if (i.grantor != s.owner && losing.count(i.grantor)) continue;  // goes with CASCADE
    addUnique(grantors, i.grantor);
    addUnique(by_grantor[i.grantor], i.grantee);
  }
  std::vector<std::string> out;
  for (const auto& g : grantors) {
    if (g == s.owner) continue;
    out.push_back(
        asRole(g, render("revoke/schema_revoke.sql",
                         {{"schema", schema}, {"grantees", granteeList(by_grantor[g])}})));
  }
  if (by_grantor.count(s.owner)) {
    out.push_back(
        asOwner(s.owner,
                render("revoke/schema_revoke.sql",
                       {{"schema", schema}, {"grantees", granteeList(by_grantor[s.owner])}}),
                actor));
  }
  return out;
}

std::vector<std::string> rebuildSchema(const SchemaAcl& s, acl::Actor actor) {
  const std::string schema = sql::quoteIdent(s.name);
  std::vector<std::string> everyone;
  for (const auto& i : s.items) addUnique(everyone, i.grantee);
  addUnique(everyone, s.owner);
  std::vector<std::string> out = {asOwner(
      s.owner,
      render("revoke/schema_revoke.sql", {{"schema", schema}, {"grantees", granteeList(everyone)}}),
      actor)};
  for (const auto& i : s.items) {
    std::vector<std::string> grants;
    for (const auto& [privileges, option] : privilegeGroups(i)) {
      grants.push_back(render("revoke/schema_grant.sql",
                              {{"privileges", privileges},
                               {"schema", schema},
                               {"grantee", granteeSql(i.grantee)},
                               {"grant_option", option ? "\n  WITH GRANT OPTION" : ""}}));
    }
    std::string joined = util::join(grants, "\n");
    out.push_back(i.grantor == s.owner ? asOwner(s.owner, joined, actor)
                                       : asRole(i.grantor, joined));
  }
  return out;
}

std::map<std::string, std::string> defaultValues(const DefaultAcl& d) {
  return {{"role", sql::quoteIdent(d.role)},
          {"in_schema", d.schema.empty() ? "" : "\n  IN SCHEMA " + sql::quoteIdent(d.schema)},
          {"objects", d.objtype == 'S' ? "SEQUENCES" : "TABLES"}};
}

// Default privileges are always granted by their role: one REVOKE does it.
std::vector<std::string> revokeDefault(const DefaultAcl& d, const std::set<std::string>& losing) {
  std::vector<std::string> grantees;
  for (const auto& i : d.items) {
    if (losing.count(i.grantee) && i.grantee != d.role) addUnique(grantees, i.grantee);
  }
  if (grantees.empty()) return {};
  auto values = defaultValues(d);
  values["grantees"] = granteeList(grantees);
  return {render("revoke/default_revoke.sql", values)};
}

// Back to exactly `d.items`: everything revoked, then each item granted again
// in its order. A global entry starts from the built-in default (the role's own
// item), which is therefore neither revoked nor granted.
std::vector<std::string> rebuildDefault(const DefaultAcl& d) {
  const bool global = d.schema.empty();
  std::vector<std::string> everyone;
  for (const auto& i : d.items) {
    if (!(global && i.grantee == d.role)) addUnique(everyone, i.grantee);
  }
  std::vector<std::string> out;
  auto values = defaultValues(d);
  if (!everyone.empty()) {
    values["grantees"] = granteeList(everyone);
    out.push_back(render("revoke/default_revoke.sql", values));
  }
  for (const auto& i : d.items) {
    if (global && i.grantee == d.role) continue;
    for (const auto& [privileges, option] : privilegeGroups(i)) {
      auto v = defaultValues(d);
      v["privileges"] = privileges;
      v["grantee"] = granteeSql(i.grantee);
      v["grant_option"] = option ? "\n  WITH GRANT OPTION" : "";
      out.push_back(render("revoke/default_grant.sql", v));
    }
  }
  return out;
}

std::set<std::string> losingGrantees(const std::vector<AclItem>& items, const ServiceRoles& roles,
                                     const std::set<std::string>& allowed,
                                     const std::string& owner) {
  std::set<std::string> out;
  for (const auto& i : items) {
    if (i.grantee != owner && roles.loses(i.grantee, allowed)) out.insert(i.grantee);
  }
  return out;
}

// Stands for the relation in statements shared by several relations: a
// quoted identifier holding a control character. Only "ON TABLE <it>" is
// replaced: a column name holding it is quoted with its quotes doubled, and a
// column never follows "ON TABLE ".
const std::string kPlaceholder = "\"\x1f\"";

std::string withRelations(std::string statement, const std::string& relations) {
  const std::string from = "ON TABLE " + kPlaceholder;
  const std::string to = "ON TABLE " + relations;
  for (size_t at = statement.find(from); at != std::string::npos;
       at = statement.find(from, at + to.size())) {
    statement.replace(at, from.size(), to);
  }
  return statement;
}

void noteLosers(Revocation& r, const std::set<std::string>& losing, const ServiceRoles& roles) {
  for (const auto& g : losing) {
    if (g.empty()) {
      r.public_access = true;
    } else {
      for (const auto& s : roles.servicesOf(g)) r.consumers.insert(s);
    }
  }
}

}  // namespace

ServiceRoles::ServiceRoles(const plan::Plan& plan) {
  for (const auto& s : plan.services) {
    services_.emplace(s.name, s.name);
    for (const auto& r : s.roles) services_.emplace(r, s.name);
  }
}

std::set<std::string> ServiceRoles::servicesOf(const std::string& role) const {
  std::set<std::string> out;
  auto [b, e] = services_.equal_range(role);
  for (auto it = b; it != e; ++it) out.insert(it->second);
  return out;
}

bool ServiceRoles::loses(const std::string& grantee, const std::set<std::string>& allowed) const {
  if (grantee.empty()) return true;
  std::set<std::string> services = servicesOf(grantee);
  if (services.empty()) return false;
  return std::none_of(services.begin(), services.end(),
                      [&](const std::string& s) { return allowed.count(s) > 0; });
}

std::vector<std::string> revokeRelation(const relations::RelationState& r,
                                        const std::set<std::string>& losing,
                                        const std::string& table_sql, acl::Actor actor) {
  struct Revokees {
    std::vector<std::string> table;    // grantees with table-level items from this grantor
    std::vector<std::string> column;   // grantees with column-level items
    std::vector<std::string> columns;  // those columns
  };
  std::vector<std::string> grantors = {r.owner};
  std::map<std::string, Revokees> by;
  auto visit = [&](const AclItem& i, const std::string& column) {
    if (!losing.count(i.grantee) || i.grantee == r.owner) return;
    if (i.grantor != r.owner && losing.count(i.grantor)) return;  // goes with CASCADE
    addUnique(grantors, i.grantor);
    Revokees& x = by[i.grantor];
    if (column.empty()) {
      addUnique(x.table, i.grantee);
    } else {
      addUnique(x.column, i.grantee);
      addUnique(x.columns, column);
    }
  };
  for (const auto& i : r.acl.table) visit(i, "");
  for (const auto& c : r.acl.columns) {
    for (const auto& i : c.items) visit(i, c.column);
  }
  const std::string table = table_sql.empty() ? r.quoted() : table_sql;
  auto columnForm = [&](const Revokees& x) {
    return revokeTable(table, "ALL (" + sql::quoteIdentList(x.columns) + ")", x.column);
  };
  std::vector<std::string> out;
  // Remaining grantors first, while they still hold their grant options.
  for (const auto& g : grantors) {
    if (g == r.owner || !by.count(g)) continue;
    const Revokees& x = by[g];
    std::vector<std::string> stmts;
    if (!x.table.empty()) stmts.push_back(revokeTable(table, "ALL", x.table));
    if (!x.column.empty()) stmts.push_back(columnForm(x));
    out.push_back(asRole(g, util::join(stmts, "\n")));
  }
  auto it = by.find(r.owner);
  if (it != by.end()) {
    const Revokees& x = it->second;
    if (!r.acl.table_null) {
      std::vector<std::string> all = x.table;
      for (const auto& g : x.column) addUnique(all, g);
      out.push_back(asOwner(r.owner, revokeTable(table, "ALL", all), actor));  // columns too
    } else if (!x.column.empty()) {
      out.push_back(asOwner(r.owner, columnForm(x), actor));
    }
  }
  return out;
}

bool keptView(const plan::Plan& plan, const Relation& relation) {
  if (relation.what != "view" && relation.what != "materialized view") return false;
  for (const plan::SharedObject* d :
       plan.decisionsFor("view", {relation.state.schema, relation.state.name})) {
    if (d->decision == "keep") return true;
  }
  return false;
}

std::vector<Revocation> planRevocations(const plan::Plan& plan, const Objects& objects,
                                        acl::Actor actor) {
  ServiceRoles roles(plan);
  std::map<std::string, Revocation> by_service;
  // Per service, relations grouped by their statements with kPlaceholder for
  // the name, in first-appearance order.
  struct Shape {
    std::vector<std::string> forward, inverse, relations;
  };
  std::map<std::string, std::vector<Shape>> shapes;
  std::map<std::string, std::map<std::string, size_t>> shape_index;
  for (const auto& rel : objects.relations) {
    const relations::RelationState& r = rel.state;
    if (keptView(plan, rel)) continue;
    std::set<std::string> losing;
    auto collect = [&](const std::vector<AclItem>& items) {
      auto l = losingGrantees(items, roles, rel.allowed, r.owner);
      losing.insert(l.begin(), l.end());
    };
    collect(r.acl.table);
    for (const auto& c : r.acl.columns) collect(c.items);
    std::vector<std::string> forward = revokeRelation(r, losing, kPlaceholder, actor);
    if (forward.empty()) continue;
    std::vector<std::string> inverse = acl::rebuild(kPlaceholder, r.acl, r.owner, {}, false, actor);
    std::string key = util::join(forward, "\n") + '\0' + util::join(inverse, "\n");
    auto [it, fresh] = shape_index[rel.service].emplace(key, shapes[rel.service].size());
    if (fresh) shapes[rel.service].push_back({forward, inverse, {}});
    shapes[rel.service][it->second].relations.push_back(r.quoted());
    Revocation& rv = by_service[rel.service];
    rv.relations.push_back(rel.what + " " + r.display());
    noteLosers(rv, losing, roles);
  }
  for (const auto& [service, list] : shapes) {
    Revocation& rv = by_service[service];
    for (const Shape& shape : list) {
      for (size_t from = 0; from < shape.relations.size(); from += kBatch) {
        size_t to = std::min(shape.relations.size(), from + kBatch);
        std::vector<std::string> names(shape.relations.begin() + from,
                                       shape.relations.begin() + to);
        std::string list_sql = util::join(names, ",\n           ");
        for (const auto& f : shape.forward) rv.forward.push_back(withRelations(f, list_sql));
        for (const auto& i : shape.inverse) rv.inverse.push_back(withRelations(i, list_sql));
      }
    }
  }
  for (const auto& s : objects.schemas) {
    std::set<std::string> losing = losingGrantees(s.items, roles, {s.name}, s.owner);
    std::vector<std::string> forward = revokeSchema(s, losing, actor);
    if (forward.empty()) continue;
    Revocation& rv = by_service[s.name];
    rv.forward.insert(rv.forward.end(), forward.begin(), forward.end());
    auto rebuilt = rebuildSchema(s, actor);
    rv.inverse.insert(rv.inverse.end(), rebuilt.begin(), rebuilt.end());
    rv.schemas.push_back(s.name);
    noteLosers(rv, losing, roles);
  }
  for (const auto& d : objects.defaults) {
    std::set<std::string> allowed = roles.servicesOf(d.role);
    if (allowed.empty()) continue;
    std::set<std::string> losing = losingGrantees(d.items, roles, allowed, d.role);
    std::vector<std::string> forward = revokeDefault(d, losing);
    if (forward.empty()) continue;
    Revocation& rv = by_service[*allowed.begin()];
    rv.forward.insert(rv.forward.end(), forward.begin(), forward.end());
    auto rebuilt = rebuildDefault(d);
    rv.inverse.insert(rv.inverse.end(), rebuilt.begin(), rebuilt.end());
    rv.defaults.push_back(fmt::format("{} of {}{}", d.objtype == 'S' ? "sequences" : "tables",
                                      d.role, d.schema.empty() ? "" : " in schema " + d.schema));
    noteLosers(rv, losing, roles);
  }
  std::vector<Revocation> out;
  for (const auto& s : plan.services) {
    auto it = by_service.find(s.name);
    if (it == by_service.end()) continue;
    it->second.service = s.name;
    out.push_back(std::move(it->second));
  }
  return out;
}

engine::Action toAction(const Revocation& r) {
  std::vector<std::string> who(r.consumers.begin(), r.consumers.end());
  if (r.public_access) who.push_back("PUBLIC");
  std::vector<std::string> what;
  if (!r.relations.empty()) what.push_back(fmt::format("{} relation(s)", r.relations.size()));
  if (!r.schemas.empty()) what.push_back("schema " + util::join(r.schemas, ", "));
  if (!r.defaults.empty()) {
    what.push_back("default privileges (" + util::join(r.defaults, "; ") + ")");
  }
  engine::Action a;
  a.id = "revoke/owner/" + r.service;
  a.description = fmt::format("take every privilege on {}'s data ({}) from {}", r.service,
                              util::join(what, ", "), util::join(who, ", "));
  a.forward = util::join(r.forward, "\n");
  // Inverses run in reverse order of the forwards they undo.
  a.inverse = util::join(r.inverse, "\n");
  // GRANT and REVOKE update catalog rows only; no table is locked. (A default
  // privilege entry that empties is dropped under a lock on that entry alone.)
  a.lock = {"none", "no table: catalog rows only"};
  a.destructive = true;
  return a;
}

}  // namespace dbsplit::steps::revoke
