// The ownership step's actions and their exact inverses.
//
// Order inside a table's action, forward: ALTER OWNER (relabels the ACL from
// the old owner to the group, exactly, since the group is not in it yet), then
// the REVOKEs, then the COMMENT. The inverse runs the other way round: comment
// back, ACL rebuilt to what it was right after ALTER OWNER, then ALTER OWNER
// back, which relabels the group to the old owner and so gives the prior ACL
// byte for byte (the old owner is not in the rebuilt ACL).
#include "steps/ownership/actions.h"

#include <algorithm>

#include "fmt/format.h"
#include "sql/quote.h"
#include "sql/template.h"
#include "steps/ownership/ownership.h"
#include "util/text.h"

namespace dbsplit::steps::ownership {

using acl::rebuild;
using acl::relabel;
using acl::RelationAcl;
using acl::revokeWrites;
namespace {

std::string render(const std::string& name, const std::map<std::string, std::string>& values) {
  std::string s = sql::renderTemplate("ownership/" + name, values);
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

// GRANT `privileges` (a list) ON `relation` (quoted) TO `role`, without grant option.
std::string grant(const std::string& privileges, const std::string& relation,
                  const std::string& role) {
  return render("grant.sql", {{"privileges", privileges},
                              {"table", relation},
                              {"grantee", sql::quoteIdent(role)},
                              {"grant_option", ""}});
}

std::string joinStatements(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : "\n") + p;
  return out;
}

// `statements` give `r` to `to`: as they are for a superuser, else between a
// grant and a revoke of CREATE on its schema unless `to` holds it already.
std::string ownerChange(const Changer& c, const RelationState& r, const std::string& to,
                        const std::string& statements) {
  if (c.superuser || c.holds_create.count({to, r.schema})) return statements;
  return acl::withSchemaCreate(sql::quoteIdent(r.schema), to, statements);
}

acl::Actor actor(const Changer& c) {
  return c.superuser ? acl::Actor::kSuperuser : acl::Actor::kMember;
}

// The roles the action's SQL acts as: the old owner (whose privileges take
// the object over and, in the inverse, give it back) and every grantor other
// than the owner (SET ROLE to revoke or grant again as it).
void noteActing(const Changer& c, const RelationState& r) {
  if (!c.acts_as) return;
  c.acts_as->insert(r.owner);
  for (const auto& i : r.acl.table) c.acts_as->insert(i.grantor);
  for (const auto& col : r.acl.columns) {
    for (const auto& i : col.items) c.acts_as->insert(i.grantor);
  }
}

}  // namespace

engine::Action membershipAction(const std::string& role, const std::string& admin,
                                const std::string& why) {
  engine::Action a;
  a.id = "ownership/membership/" + role;
  a.description = fmt::format("{} (not a superuser) joins role {}: {}", admin, role, why);
  std::map<std::string, std::string> values = {{"role", sql::quoteIdent(role)},
                                               {"members", sql::quoteIdent(admin)}};
  a.forward = render("grant_members.sql", values);
  a.inverse = render("revoke_members.sql", values);
  a.lock = {"none", ""};
  return a;
}

std::vector<std::string> waivedRoles(const plan::Table& table, const plan::Plan& plan) {
  std::vector<std::string> roles;
  for (const auto& w : plan.waivers) {
    if (w.table != table.name || w.service == table.owner) continue;
    if (const plan::Service* s = plan.findService(w.service)) {
      for (const auto& role : s->roles) {
        if (std::find(roles.begin(), roles.end(), role) == roles.end()) roles.push_back(role);
      }
    }
  }
  return roles;
}

engine::Action roleAction(const plan::Service& service) {
  engine::Action a;
  a.id = "ownership/role/" + service.name;
  a.description = fmt::format("group role {} (NOLOGIN) for service {}", service.name, service.name);
  a.forward =
      render("create_role.sql", {{"role", sql::quoteIdent(service.name)},
                                 {"comment", sql::quoteLiteral(roleComment(service.name))}});
  a.inverse = render("drop_role.sql", {{"role", sql::quoteIdent(service.name)}});
  a.lock = {"none", ""};
  return a;
}

engine::Action membersAction(const plan::Service& service,
                             const std::vector<std::string>& members) {
  engine::Action a;
  a.id = "ownership/members/" + service.name;
  a.description = fmt::format("service {}'s login roles join its group", service.name);
  std::map<std::string, std::string> values = {{"role", sql::quoteIdent(service.name)},
                                               {"members", sql::quoteIdentList(members)}};
  a.forward = render("grant_members.sql", values);
  a.inverse = render("revoke_members.sql", values);
  a.lock = {"none", ""};
  return a;
}

engine::Action schemaAction(const plan::Service& service) {
  engine::Action a;
  a.id = "ownership/schema/" + service.name;
  a.description = fmt::format("schema {} owned by the group (empty until step 6)", service.name);
  a.forward = render("create_schema.sql", {{"schema", sql::quoteIdent(service.name)},
                                           {"role", sql::quoteIdent(service.name)}});
  a.inverse = render("drop_schema.sql", {{"schema", sql::quoteIdent(service.name)}});
  a.lock = {"none", ""};
  return a;
}

engine::Action relationAction(const RelationState& r, const plan::Plan& plan,
                              const std::map<std::string, WaivedGrant>& waived_grants,
                              const Changer& changer) {
  noteActing(changer, r);
  const std::string& group = r.table->owner;
  const plan::Service* service = plan.findService(group);
  std::set<std::string> owners = {group};
  if (service) owners.insert(service->roles.begin(), service->roles.end());
  // A [[waiver]] accepts a service's write "for now": its login roles lose
  // their writes on the waived table (and its partitions) with everyone
  // else's, then get back only what the catalogue saw them write (waivers.h).
  const std::set<std::string>& kept = owners;
  const std::string table = r.quoted();
  const bool moves = r.owner != group;
  // The ACL as it is right after ALTER OWNER: what the revokes start from and
  // what the inverse rebuilds.
  RelationAcl after_owner = moves ? relabel(r.acl, r.owner, group) : r.acl;
  std::vector<std::string> revokes = revokeWrites(table, after_owner, group, kept, actor(changer));
  // The old owner could read everything; reads stay until step 5 severs them.
  // (Superusers and the owner's own login roles read anyway.)
  const bool grant_old =
      moves && !owners.count(r.owner) && !r.owner_is_superuser && r.owner != changer.admin;
  std::vector<std::string> regrants, waived;  // GRANTs to waived roles; who keeps what
  std::vector<std::string> regranted;         // roles with a GRANT
  for (const auto& [role, g] : waived_grants) {
    std::vector<std::string> list = g.privileges;
    if (!g.update_columns.empty()) {
      list.push_back("UPDATE (" + sql::quoteIdentList(g.update_columns) + ")");
    }
    waived.push_back(role + " (" + (list.empty() ? "nothing" : util::join(list, ", ")) + "; " +
                     g.evidence + ")");
    if (list.empty()) continue;
    regrants.push_back(
        acl::asGrantor(group, group, grant(util::join(list, ", "), table, role), actor(changer)));
    regranted.push_back(role);
  }

  std::vector<std::string> forward, inverse;
  if (moves)
    forward.push_back(ownerChange(
        changer, r, group,
        render("alter_owner.sql", {{"table", table}, {"owner", sql::quoteIdent(group)}})));
  forward.insert(forward.end(), revokes.begin(), revokes.end());
  if (grant_old) {
    forward.push_back(
        acl::asGrantor(group, group, grant("SELECT", table, r.owner), actor(changer)));
  }
  forward.insert(forward.end(), regrants.begin(), regrants.end());
  std::string marker = ownerComment(group, r.comment);
  forward.push_back(
      render("comment.sql", {{"table", table}, {"comment", sql::quoteLiteral(marker)}}));

  inverse.push_back(
      render("comment.sql",
             {{"table", table}, {"comment", r.comment ? sql::quoteLiteral(*r.comment) : "NULL"}}));
  if (!revokes.empty() || grant_old || !regrants.empty()) {
    std::vector<std::string> extra;
    if (grant_old) extra.push_back(r.owner);
    extra.insert(extra.end(), regranted.begin(), regranted.end());
    auto rebuilt =
        rebuild(table, after_owner, group, extra, grant_old || !regrants.empty(), actor(changer));
    inverse.insert(inverse.end(), rebuilt.begin(), rebuilt.end());
  }
  if (moves)
    inverse.push_back(ownerChange(
        changer, r, r.owner,
        render("alter_owner.sql", {{"table", table}, {"owner", sql::quoteIdent(r.owner)}})));

  engine::Action a;
  a.id = "ownership/table/" + r.display();
  a.description = fmt::format(
      "{}{}{}{}",
      moves ? "group " + group + " owns it (was " + r.owner + ")"
            : "already owned by group " + group,
      revokes.empty() ? "" : "; writes revoked from other roles",
      waived.empty()
          ? ""
          : "; waived writers get back what they were seen writing: " + util::join(waived, ", "),
      "; owner recorded in the comment");
  a.forward = joinStatements(forward);
  a.inverse = joinStatements(inverse);
  a.lock = {moves ? "ACCESS EXCLUSIVE" : "SHARE UPDATE EXCLUSIVE", r.display()};
  return a;
}

// Same shape as a table's action, for a sequence no column owns: PostgreSQL
// moves owned sequences with their table, this one is moved by hand. Other
// roles lose nextval and setval (USAGE, UPDATE); SELECT stays until step 5.
std::optional<engine::Action> sequenceAction(const relations::DefaultSequence& seq,
                                             const plan::Plan& plan,
                                             const std::vector<std::string>& waived,
                                             const Changer& changer) {
  const RelationState& r = seq.state;
  const std::string group = seq.owner();
  const plan::Service* service = plan.findService(group);
  std::set<std::string> owners = {group};
  if (service) owners.insert(service->roles.begin(), service->roles.end());
  std::set<std::string> kept = owners;
  kept.insert(waived.begin(), waived.end());
  const std::string name = r.quoted();
  const bool moves = r.owner != group;
  RelationAcl after_owner = moves ? relabel(r.acl, r.owner, group) : r.acl;
  std::vector<std::string> revokes =
      acl::revokeSequenceWrites(name, after_owner, group, kept, actor(changer));
  const bool grant_old =
      moves && !owners.count(r.owner) && !r.owner_is_superuser && r.owner != changer.admin;
  if (!moves && revokes.empty()) return std::nullopt;
  noteActing(changer, r);

  std::vector<std::string> forward, inverse;
  const std::map<std::string, std::string> to_group = {
      {"kind", "SEQUENCE"}, {"view", name}, {"owner", sql::quoteIdent(group)}};
  if (moves)
    forward.push_back(ownerChange(changer, r, group, render("alter_view_owner.sql", to_group)));
  forward.insert(forward.end(), revokes.begin(), revokes.end());
  if (grant_old)
    forward.push_back(acl::asGrantor(group, group, grant("SELECT", name, r.owner), actor(changer)));
  if (!revokes.empty() || grant_old) {
    std::vector<std::string> extra;
    if (grant_old) extra.push_back(r.owner);
    auto rebuilt = rebuild(name, after_owner, group, extra, grant_old, actor(changer));
    inverse.insert(inverse.end(), rebuilt.begin(), rebuilt.end());
  }
  if (moves) {
    inverse.push_back(ownerChange(
        changer, r, r.owner,
        render("alter_view_owner.sql",
               {{"kind", "SEQUENCE"}, {"view", name}, {"owner", sql::quoteIdent(r.owner)}})));
  }

  engine::Action a;
  a.id = "ownership/sequence/" + r.display();
  a.description = fmt::format(
      "{}{}{}; it is no column's (no OWNED BY), the defaults of {}'s tables use it: {}",
      moves ? "group " + group + " owns sequence " + r.display() + " (was " + r.owner + ")"
            : "sequence " + r.display() + " already owned by group " + group,
      revokes.empty() ? "" : "; nextval and setval revoked from other roles",
      grant_old ? "; the old owner keeps SELECT" : "", group, util::join(seq.users, ", "));
  a.forward = joinStatements(forward);
  a.inverse = joinStatements(inverse);
  a.lock = {"ACCESS EXCLUSIVE", r.display()};
  return a;
}

// Same shape as a table's action without the revokes and the comment: reads
// (and any other grant) on the view stay as they are.
engine::Action viewAction(const ViewState& v, const std::string& group, const plan::Plan& plan,
                          const Changer& changer) {
  const RelationState& r = v.relation;
  noteActing(changer, r);
  const plan::Service* service = plan.findService(group);
  std::set<std::string> kept = {group};
  if (service) kept.insert(service->roles.begin(), service->roles.end());
  const std::string view = r.quoted();
  const std::string kind = r.kind == 'm' ? "MATERIALIZED VIEW" : "VIEW";
  RelationAcl after_owner = relabel(r.acl, r.owner, group);
  // Once the group owns an updatable view, a write through it is checked
  // against the group's rights on the table: the other roles' write grants on
  // the view must go, or the view would reopen what the table's revoke closed.
  std::vector<std::string> revokes = revokeWrites(view, after_owner, group, kept, actor(changer));
  const bool grant_old = !kept.count(r.owner) && !r.owner_is_superuser && r.owner != changer.admin;

  std::vector<std::string> forward, inverse;
  forward.push_back(
      ownerChange(changer, r, group,
                  render("alter_view_owner.sql",
                         {{"kind", kind}, {"view", view}, {"owner", sql::quoteIdent(group)}})));
  forward.insert(forward.end(), revokes.begin(), revokes.end());
  if (grant_old) {
    forward.push_back(acl::asGrantor(group, group, grant("SELECT", view, r.owner), actor(changer)));
  }
  if (!revokes.empty() || grant_old) {
    std::vector<std::string> extra;
    if (grant_old) extra.push_back(r.owner);
    auto rebuilt = rebuild(view, after_owner, group, extra, true, actor(changer));
    inverse.insert(inverse.end(), rebuilt.begin(), rebuilt.end());
  }
  inverse.push_back(
      ownerChange(changer, r, r.owner,
                  render("alter_view_owner.sql",
                         {{"kind", kind}, {"view", view}, {"owner", sql::quoteIdent(r.owner)}})));

  engine::Action a;
  a.id = "ownership/view/" + r.display();
  a.description = fmt::format("group {} owns {} {} over its tables only (was {}){}{}", group,
                              r.kind == 'm' ? "materialized view" : "view", r.display(), r.owner,
                              revokes.empty() ? "" : "; writes through it revoked from other roles",
                              grant_old ? "; the old owner keeps SELECT" : "");
  a.forward = joinStatements(forward);
  a.inverse = joinStatements(inverse);
  a.lock = {"ACCESS EXCLUSIVE", r.display()};
  return a;
}

}  // namespace dbsplit::steps::ownership
