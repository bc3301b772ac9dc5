// ACL rules of the ownership step (see ownership_acl.h for the PostgreSQL
// behaviour they rely on).
#include "acl/acl.h"

#include <algorithm>
#include <map>

#include "sql/quote.h"
#include "sql/template.h"

namespace dbsplit::acl {
namespace {

constexpr const char* kWrites = "INSERT, UPDATE, DELETE, TRUNCATE";
constexpr const char* kSequenceWrites = "USAGE, UPDATE";

void addUnique(std::vector<std::string>& list, const std::string& v) {
  if (std::find(list.begin(), list.end(), v) == list.end()) list.push_back(v);
}

std::string trimmed(std::string s) {
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

std::string join(const std::vector<std::string>& parts, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? sep : "") + parts[i];
  return out;
}

std::string granteeList(const std::vector<std::string>& grantees) {
  std::vector<std::string> quoted;
  for (const auto& g : grantees) quoted.push_back(granteeSql(g));
  return join(quoted, ", ");
}

}  // namespace

// Runs `statements` as `role` when it is not the owner (the grantor of what a
// superuser grants or revokes is always the owner), and always for a member.
std::string asGrantor(const std::string& role, const std::string& owner,
                      const std::string& statements, Actor actor) {
  if (role == owner && actor == Actor::kSuperuser) return statements;
  return trimmed(sql::renderTemplate(
      "ownership/as_role.sql", {{"role", sql::quoteIdent(role)}, {"statements", statements}}));
}

namespace {

std::string revokeStatement(const std::string& table_sql, const std::string& privileges,
                            const std::vector<std::string>& grantees) {
  return trimmed(sql::renderTemplate(
      "ownership/revoke.sql",
      {{"privileges", privileges}, {"table", table_sql}, {"grantees", granteeList(grantees)}}));
}

// "INSERT ("a", "b"), UPDATE ("a", "b")": the column-level write privileges.
std::string columnWrites(const std::vector<std::string>& columns) {
  std::string cols = "(" + sql::quoteIdentList(columns) + ")";
  return "INSERT " + cols + ", UPDATE " + cols;
}

// GRANT statements recreating `item`: one for the privileges held without and
// one for those held with grant option, both landing in the same item.
std::vector<std::string> grantItem(const std::string& table_sql, const AclItem& item,
                                   const std::string& column) {
  std::vector<std::string> plain, grantable;
  for (const auto& p : item.privileges) {
    std::string spelled = column.empty() ? p : p + " (" + sql::quoteIdent(column) + ")";
    (item.grantable.count(p) ? grantable : plain).push_back(spelled);
  }
  std::vector<std::string> out;
  for (int with_option = 0; with_option < 2; ++with_option) {
    const auto& privs = with_option ? grantable : plain;
    if (privs.empty()) continue;
    out.push_back(trimmed(sql::renderTemplate(
        "ownership/grant.sql", {{"privileges", join(privs, ", ")},
                                {"table", table_sql},
                                {"grantee", granteeSql(item.grantee)},
                                {"grant_option", with_option ? "\n  WITH GRANT OPTION" : ""}})));
  }
  return out;
}

std::vector<std::string> revokeWritesOf(const std::string& table_sql, const RelationAcl& acl,
                                        const std::string& owner, const std::set<std::string>& kept,
                                        bool sequence, Actor actor);

}  // namespace

std::vector<AclItem> groupRows(const std::vector<ExplodedRow>& rows) {
  std::vector<AclItem> items;
  for (const auto& r : rows) {
    if (items.empty() || items.back().grantee != r.grantee || items.back().grantor != r.grantor) {
      items.push_back(AclItem{r.grantee, r.grantor, {}, {}});
    }
    items.back().privileges.push_back(r.privilege);
    if (r.grantable) items.back().grantable.insert(r.privilege);
  }
  return items;
}

std::vector<std::pair<std::string, std::vector<AclItem>>> groupByKey(
    const std::vector<std::pair<std::string, ExplodedRow>>& rows) {
  std::vector<std::pair<std::string, std::vector<AclItem>>> out;
  std::vector<ExplodedRow> run;
  for (size_t i = 0; i < rows.size(); ++i) {
    run.push_back(rows[i].second);
    if (i + 1 == rows.size() || rows[i + 1].first != rows[i].first) {
      out.emplace_back(rows[i].first, groupRows(run));
      run.clear();
    }
  }
  return out;
}

std::string aclQuery(const std::string& keys, const std::string& from, const std::string& acl,
                     const std::string& where, const std::string& order) {
  return "SELECT " + keys +
         ", coalesce(gr.rolname, ''), coalesce(ge.rolname, ''),\n"
         "       x.privilege_type, x.is_grantable\n"
         "  FROM " +
         from + "\n CROSS JOIN LATERAL pg_catalog.aclexplode(" + acl +
         ")\n"
         "       WITH ORDINALITY AS x(grantor, grantee, privilege_type, is_grantable, n)\n"
         "  LEFT JOIN pg_catalog.pg_roles gr ON gr.oid = x.grantor\n"
         "  LEFT JOIN pg_catalog.pg_roles ge ON ge.oid = x.grantee\n"
         " WHERE " +
         where + "\n ORDER BY " + order + ", x.n";
}

std::vector<std::string> RelationAcl::grantees() const {
  std::vector<std::string> out;
  for (const auto& i : table) addUnique(out, i.grantee);
  for (const auto& c : columns) {
    for (const auto& i : c.items) addUnique(out, i.grantee);
  }
  return out;
}

RelationAcl relabel(const RelationAcl& acl, const std::string& from, const std::string& to) {
  RelationAcl out = acl;
  auto fix = [&](std::vector<AclItem>& items) {
    for (auto& i : items) {
      if (i.grantee == from) i.grantee = to;
      if (i.grantor == from) i.grantor = to;
    }
  };
  fix(out.table);
  for (auto& c : out.columns) fix(c.items);
  return out;
}

bool isWritePrivilege(const std::string& p) {
  return p == "INSERT" || p == "UPDATE" || p == "DELETE" || p == "TRUNCATE";
}

std::string granteeSql(const std::string& grantee) {
  return grantee.empty() ? "PUBLIC" : sql::quoteIdent(grantee);
}

std::vector<std::string> revokeWrites(const std::string& table_sql, const RelationAcl& acl,
                                      const std::string& owner, const std::set<std::string>& kept,
                                      Actor actor) {
  return revokeWritesOf(table_sql, acl, owner, kept, false, actor);
}

std::vector<std::string> revokeSequenceWrites(const std::string& sequence_sql,
                                              const RelationAcl& acl, const std::string& owner,
                                              const std::set<std::string>& kept, Actor actor) {
  return revokeWritesOf(sequence_sql, acl, owner, kept, true, actor);
}

namespace {

std::vector<std::string> revokeWritesOf(const std::string& table_sql, const RelationAcl& acl,
                                        const std::string& owner, const std::set<std::string>& kept,
                                        bool sequence, Actor actor) {
  // A sequence's writes: nextval (USAGE or UPDATE) and setval (UPDATE).
  auto hasWrite = [sequence](const AclItem& i) {
    return std::any_of(i.privileges.begin(), i.privileges.end(), [sequence](const auto& p) {
      return sequence ? p == "USAGE" || p == "UPDATE" : isWritePrivilege(p);
    });
  };
  // Grantors in first-appearance order: the owner first, then kept roles
  // whose grants to others must go too. What other grantors passed on goes
  // with CASCADE when their own privileges are revoked.
  struct Revokees {
    std::vector<std::string> grantees;
    std::vector<std::string> columns;  // with column-level write items
  };
  std::vector<std::string> grantors = {owner};
  std::map<std::string, Revokees> by_grantor;
  auto visit = [&](const AclItem& i, const std::string& column) {
    if (kept.count(i.grantee) || !hasWrite(i)) return;
    if (i.grantor != owner && !kept.count(i.grantor)) return;
    addUnique(grantors, i.grantor);
    addUnique(by_grantor[i.grantor].grantees, i.grantee);
    if (!column.empty()) addUnique(by_grantor[i.grantor].columns, column);
  };
  for (const auto& i : acl.table) visit(i, "");
  for (const auto& c : acl.columns) {
    for (const auto& i : c.items) visit(i, c.column);
  }
  // A kept grantor revokes only while it still holds its grant option, i.e.
  // when that came from the owner or another kept role (else CASCADE took it).
  auto stillGrants = [&](const std::string& role) {
    auto holds = [&](const AclItem& i) {
      return i.grantee == role && !i.grantable.empty() &&
             (i.grantor == owner || kept.count(i.grantor));
    };
    if (std::any_of(acl.table.begin(), acl.table.end(), holds)) return true;
    return std::any_of(acl.columns.begin(), acl.columns.end(), [&](const ColumnAcl& c) {
      return std::any_of(c.items.begin(), c.items.end(), holds);
    });
  };
  std::vector<std::string> out;
  for (const auto& grantor : grantors) {
    auto it = by_grantor.find(grantor);
    if (it == by_grantor.end()) continue;
    if (grantor != owner && !stillGrants(grantor)) continue;
    // A table-level REVOKE would turn a NULL relacl into an explicit one that
    // no GRANT can turn back: with NULL, only column privileges exist.
    const Revokees& r = it->second;
    std::string stmt =
        acl.table_null
            ? revokeStatement(table_sql, columnWrites(r.columns), r.grantees)
            : revokeStatement(table_sql, sequence ? kSequenceWrites : kWrites, r.grantees);
    out.push_back(asGrantor(grantor, owner, stmt, actor));
  }
  return out;
}

}  // namespace

std::vector<std::string> rebuild(const std::string& table_sql, const RelationAcl& acl,
                                 const std::string& owner,
                                 const std::vector<std::string>& extra_grantees,
                                 bool table_acl_touched, Actor actor) {
  std::vector<std::string> out;
  std::vector<std::string> everyone = acl.grantees();
  for (const auto& g : extra_grantees) addUnique(everyone, g);
  if (acl.table_null && !table_acl_touched) {
    std::vector<std::string> columns;
    for (const auto& c : acl.columns) columns.push_back(c.column);
    if (!columns.empty() && !everyone.empty()) {
      out.push_back(asGrantor(
          owner, owner,
          revokeStatement(table_sql, "ALL (" + sql::quoteIdentList(columns) + ")", everyone),
          actor));
    }
  } else {
    addUnique(everyone, owner);
    out.push_back(asGrantor(owner, owner, revokeStatement(table_sql, "ALL", everyone), actor));
    for (const auto& i : acl.table) {
      out.push_back(asGrantor(i.grantor, owner, join(grantItem(table_sql, i, ""), "\n"), actor));
    }
  }
  for (const auto& c : acl.columns) {
    for (const auto& i : c.items) {
      out.push_back(
          asGrantor(i.grantor, owner, join(grantItem(table_sql, i, c.column), "\n"), actor));
    }
  }
  if (acl.table_null && table_acl_touched) {
    if (actor == Actor::kSuperuser) {
      out.push_back(trimmed(sql::renderTemplate(
          "ownership/acl_null.sql", {{"table_literal", sql::quoteLiteral(table_sql)}})));
    } else {
      out.push_back(trimmed(sql::renderTemplate(
          "ownership/acl_default.sql", {{"table", table_sql}, {"owner", sql::quoteIdent(owner)}})));
    }
  }
  return out;
}

std::string withSchemaCreate(const std::string& schema_sql, const std::string& role,
                             const std::string& statements) {
  return trimmed(sql::renderTemplate(
      "ownership/with_schema_create.sql",
      {{"schema", schema_sql}, {"role", sql::quoteIdent(role)}, {"statements", statements}}));
}

}  // namespace dbsplit::acl
