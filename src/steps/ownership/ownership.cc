// The ownership step: inputs, gates and the planner (see ownership.h).
#include "steps/ownership/ownership.h"

#include <algorithm>
#include <map>
#include <set>

#include "fmt/format.h"
#include "relations/admin.h"
#include "sql/quote.h"
#include "steps/ownership/actions.h"
#include "steps/ownership/catalog.h"
#include "steps/ownership/gates.h"
#include "steps/ownership/waivers.h"
#include "util/text.h"

namespace dbsplit::steps {
namespace {

class OwnershipStep : public engine::Step {
 public:
  OwnershipStep()
      : Step("ownership",
             "a group role and schema per service; the owner's group owns its tables; "
             "non-owner writes revoked") {}
  nlohmann::json inputs(const plan::Plan& plan) const override;
  std::vector<engine::Gate> gates(const engine::PlanContext& ctx) const override;
  std::vector<engine::Action> plan(const engine::PlanContext& ctx) const override;
};

// The actions of the step but the memberships a managed admin needs; fills
// changer.acts_as with the roles they act as.
std::vector<engine::Action> planWithout(const engine::PlanContext& ctx,
                                        const ownership::Changer& changer);

// How the connected role changes owners, and the roles its actions act as.
struct Acting {
  relations::AdminRole admin;
  ownership::Changer changer;
  std::set<std::string> roles;
};

void readActing(const engine::PlanContext& ctx, Acting& acting) {
  acting.admin = relations::readAdminRole(ctx.catalog);
  acting.changer.superuser = acting.admin.superuser;
  if (!acting.admin.superuser) acting.changer.admin = acting.admin.name;
  if (!acting.admin.superuser) acting.changer.holds_create = relations::createHolders(ctx.catalog);
  acting.changer.acts_as = &acting.roles;
}

}  // namespace

using namespace ownership;

const engine::Step* ownershipStep() {
  static const OwnershipStep step;
  return &step;
}

namespace ownership {

std::string ownerComment(const std::string& service, const std::optional<std::string>& prior) {
  std::string marker = "owned by service " + service + " (dbsplit)";
  return prior && !prior->empty() ? *prior + "\n\n" + marker : marker;
}

std::string roleComment(const std::string& service) {
  return "dbsplit: group role of service " + service;
}

}  // namespace ownership

// Waivers change actions (a waived service's login roles get back what they
// were seen writing on the waived table), so their service, table and columns
// are inputs: adding, removing, retargeting or narrowing one after the step
// ran is drift. Their reason is not. The key is left out when there is no
// waiver, so that journals written before waivers counted keep their hash.
nlohmann::json OwnershipStep::inputs(const plan::Plan& plan) const {
  nlohmann::json services = nlohmann::json::array();
  for (const auto& s : plan.services) services.push_back({{"name", s.name}, {"roles", s.roles}});
  nlohmann::json tables = nlohmann::json::array();
  for (const auto& t : plan.tables)
    tables.push_back({{"name", t.name.display()}, {"owner", t.owner}});
  nlohmann::json in = {{"services", services}, {"tables", tables}};
  if (!plan.waivers.empty()) {
    // Order in the plan is no input. The columns are (only when listed, so
    // that journals written before the key keep their hash).
    std::map<std::pair<std::string, std::string>, std::vector<std::string>> waived;
    for (const auto& w : plan.waivers) {
      std::vector<std::string> columns = w.columns;
      std::sort(columns.begin(), columns.end());
      waived[{w.service, w.table.display()}] = columns;
    }
    nlohmann::json waivers = nlohmann::json::array();
    for (const auto& [key, columns] : waived) {
      nlohmann::json entry = {{"service", key.first}, {"table", key.second}};
      if (!columns.empty()) entry["columns"] = columns;
      waivers.push_back(entry);
    }
    in["waivers"] = waivers;
  }
  return in;
}

namespace {

// What a waived role gets back on relation `oid`: what it was seen writing,
// within what it holds now (a waiver never widens a role's rights).
WaivedGrant waivedGrant(pg::Session& catalog, const std::string& role, const std::string& oid,
                        const WaivedWrite& ww) {
  WaivedGrant g;
  g.evidence = ww.evidence;
  std::vector<std::string> held = heldWrites(catalog, role, oid);
  auto holds = [&](const std::string& p) {
    return std::find(held.begin(), held.end(), p) != held.end();
  };
  if (ww.unanalysed) {
    g.privileges = held;
    return g;
  }
  for (const char* p : {"INSERT", "UPDATE", "DELETE", "TRUNCATE"}) {
    bool seen = std::find(ww.privileges.begin(), ww.privileges.end(), p) != ww.privileges.end();
    if (std::string(p) == "UPDATE") seen = ww.update_all;
    if (seen && holds(p)) g.privileges.push_back(p);
  }
  if (!ww.update_all) g.update_columns = heldColumnUpdates(catalog, role, oid, ww.update_columns);
  return g;
}

// A sequence no column owns belongs to the owner of the tables whose defaults
// use it; used by two owners' tables (or one outside the plan), it has none.
engine::Gate sharedSequencesGate(const engine::PlanContext& ctx) {
  std::vector<relations::DefaultSequence> seqs;
  try {
    seqs = relations::readDefaultSequences(ctx.catalog, readRelations(ctx.catalog, ctx.plan));
  } catch (const Error&) {
    return {"shared_sequences", true, "checked once the plan's tables exist"};
  }
  std::vector<std::string> shared, taken;
  for (const auto& d : seqs) (d.owner().empty() ? shared : taken).push_back(d.describe());
  if (!shared.empty()) {
    return {"shared_sequences", false,
            fmt::format("{} sequence(s) no column owns are used by the defaults of tables of "
                        "more than one owner (or of a table outside the plan), so they belong "
                        "to no service: {}; give each table its own sequence (or declare the "
                        "other table with the same owner)",
                        shared.size(), util::join(shared, "; "))};
  }
  if (taken.empty()) {
    return {"shared_sequences", true,
            "every sequence the plan's tables' defaults use is owned by a column (OWNED BY)"};
  }
  return {"shared_sequences", true,
          fmt::format("{} sequence(s) no column owns follow the owner of the tables whose "
                      "defaults use them: {}",
                      taken.size(), util::join(taken, "; "))};
}

}  // namespace

std::vector<engine::Gate> OwnershipStep::gates(const engine::PlanContext& ctx) const {
  std::optional<journal::SnapshotRecord> snapshot;
  if (ctx.journal) snapshot = ctx.journal->latestSnapshot("catalogue");
  std::vector<engine::Gate> gates = catalogueGates(ctx.plan, snapshot ? &*snapshot : nullptr);
  gates.push_back(sharedSequencesGate(ctx));
  // A superuser may do all the step does. A managed admin needs CREATEROLE
  // (group roles, their members, its own memberships) and the privileges of
  // every role the actions act as: those it may not grant itself are named.
  Acting acting;
  readActing(ctx, acting);
  const relations::AdminRole& admin = acting.admin;
  if (admin.superuser) {
    gates.push_back({"createrole", true, "connected as a superuser"});
    gates.push_back({"memberships", true, "connected as a superuser: it acts as any role"});
    return gates;
  }
  gates.push_back(
      {"createrole", admin.createrole,
       admin.createrole
           ? fmt::format("{} has CREATEROLE: it creates the group roles and grants them",
                         admin.name)
           : fmt::format("{} is not a superuser and has no CREATEROLE: it cannot create the "
                         "group roles, add the services' login roles to them or join them "
                         "itself; ALTER ROLE {} CREATEROLE; (as a role that has it: RDS's "
                         "master user, Cloud SQL's cloudsqlsuperuser, Azure's admin)",
                         admin.name, sql::quoteIdent(admin.name))});
  bool planned = true;
  try {
    planWithout(ctx, acting.changer);
  } catch (const Error&) {
    planned = false;  // the planner names its problems itself
  }
  std::vector<std::string> group_names;
  for (const auto& svc : ctx.plan.services) group_names.push_back(svc.name);
  std::vector<std::string> wanted;
  for (const auto& r : acting.roles) {
    if (std::find(group_names.begin(), group_names.end(), r) == group_names.end())
      wanted.push_back(r);
  }
  std::vector<relations::MissingRole> missing = relations::missingRoles(ctx.catalog, admin, wanted);
  std::vector<std::string> joins, blocked;
  for (const auto& m : missing) (m.grantable ? joins : blocked).push_back(m.role);
  if (!blocked.empty()) {
    gates.push_back(
        {"memberships", false,
         fmt::format("{} must act as {} (they own the plan's relations or granted "
                     "privileges on them) and cannot join {} itself: {}",
                     admin.name, util::join(blocked, ", "), blocked.size() == 1 ? "it" : "them",
                     relations::membershipAdvice(admin, missing))});
  } else {
    gates.push_back(
        {"memberships", true,
         !planned ? "checked once the planner's own problems are solved"
         : joins.empty()
             ? fmt::format("{} has the privileges of every role the step acts as", admin.name)
             : fmt::format("{} joins {} as actions (ownership/membership/...), left again on "
                           "rollback",
                           admin.name, util::join(joins, ", "))});
  }
  return gates;
}

// A managed admin first joins the roles its actions act as (those it may
// grant itself; the memberships gate names the others), and each group role
// right after creating it: ALTER ... OWNER TO and CREATE SCHEMA AUTHORIZATION
// need membership in the new owner.
std::vector<engine::Action> OwnershipStep::plan(const engine::PlanContext& ctx) const {
  Acting acting;
  readActing(ctx, acting);
  std::vector<engine::Action> body = planWithout(ctx, acting.changer);
  if (acting.admin.superuser) return body;
  const std::string& me = acting.admin.name;
  std::set<std::string> groups;
  for (const auto& svc : ctx.plan.services) groups.insert(svc.name);
  std::vector<std::string> others;
  for (const auto& r : acting.roles) {
    if (!groups.count(r)) others.push_back(r);
  }
  std::vector<engine::Action> actions;
  for (const auto& m : relations::missingRoles(ctx.catalog, acting.admin, others)) {
    if (m.grantable)
      actions.push_back(membershipAction(
          m.role, me, "it owns relations of the plan or granted privileges on them"));
  }
  std::vector<std::string> group_list(groups.begin(), groups.end());
  std::set<std::string> existing_missing;
  for (const auto& m : relations::missingRoles(ctx.catalog, acting.admin, group_list)) {
    existing_missing.insert(m.role);
  }
  for (auto& a : body) {
    const bool creates_group = a.id.rfind("ownership/role/", 0) == 0;
    std::string group = creates_group ? a.id.substr(std::string("ownership/role/").size()) : "";
    actions.push_back(std::move(a));
    if (creates_group) {
      actions.push_back(membershipAction(group, me, "to give it its service's objects"));
      existing_missing.erase(group);
    }
  }
  // Group roles made by an earlier run the admin is not in (yet).
  std::vector<engine::Action> joins;
  for (const auto& g : existing_missing) {
    bool exists =
        !ctx.catalog.execParams("SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1", g).empty();
    if (exists) joins.push_back(membershipAction(g, me, "to give it its service's objects"));
  }
  actions.insert(actions.begin(), joins.begin(), joins.end());
  return actions;
}

namespace {

std::vector<engine::Action> planWithout(const engine::PlanContext& ctx, const Changer& changer) {
  const plan::Plan& plan = ctx.plan;
  pg::Session& catalog = ctx.catalog;
  std::vector<std::string> problems;
  std::vector<engine::Action> actions;
  for (const auto& s : plan.services) {
    std::vector<std::string> missing_members;
    for (const auto& login : s.roles) {
      RoleState role = readRole(catalog, login);
      if (!role.exists) {
        problems.push_back(fmt::format("{}: login role \"{}\" of service {} does not exist",
                                       s.pos.str(), login, s.name));
      }
    }
    RoleState group = readRole(catalog, s.name);
    if (group.exists && (group.can_login || group.comment != roleComment(s.name))) {
      problems.push_back(fmt::format(
          "{}: role \"{}\" already exists and was not created by dbsplit; the group role of "
          "service {} must be dbsplit's own",
          s.pos.str(), s.name, s.name));
      continue;
    }
    if (!group.exists) actions.push_back(roleAction(s));
    for (const auto& login : s.roles) {
      if (!group.members.count(login)) missing_members.push_back(login);
    }
    if (!missing_members.empty()) actions.push_back(membersAction(s, missing_members));
    SchemaState schema = readSchema(catalog, s.name);
    if (!schema.exists) {
      actions.push_back(schemaAction(s));
    } else if (schema.owner != s.name) {
      // Never take over (or later drop) what dbsplit did not create.
      problems.push_back(fmt::format(
          "{}: schema \"{}\" already exists and is owned by {}, not by the group {}; service {} "
          "needs that schema for itself",
          s.pos.str(), s.name, schema.owner, s.name, s.name));
    }
  }
  if (!problems.empty()) {
    throw Error::precondition("ownership_roles",
                              fmt::format("step ownership cannot start: {} problem(s); nothing "
                                          "changed",
                                          problems.size()),
                              "create the missing login roles; rename or drop the conflicting "
                              "roles and schemas (or rename the service in the plan)")
        .withDetails(problems);
  }
  std::vector<RelationState> relations = readRelations(catalog, plan);
  for (const auto& r : relations) {
    const std::string& group = r.table->owner;
    if (r.owner != group && !r.acl.grantees().empty()) {
      auto gs = r.acl.grantees();
      if (std::find(gs.begin(), gs.end(), group) != gs.end()) {
        problems.push_back(fmt::format(
            "{}: {} grants privileges to role {} already; ALTER OWNER would merge them and "
            "rollback could not restore them exactly",
            r.table->pos.str(), r.display(), group));
      }
    }
  }
  if (!problems.empty()) {
    throw Error::precondition("ownership_acl", "step ownership cannot start; nothing changed",
                              "REVOKE those privileges from the group role first")
        .withDetails(problems);
  }
  std::optional<journal::SnapshotRecord> snapshot;
  if (ctx.journal) snapshot = ctx.journal->latestSnapshot("catalogue");
  std::map<std::string, std::string> service_of;    // relation oid -> owning service
  std::map<std::string, size_t> last_table_action;  // service -> index in actions
  for (const auto& r : relations) {
    service_of[r.oid] = r.table->owner;
    last_table_action[r.table->owner] = actions.size();
    std::map<std::string, WaivedGrant> waived;
    for (const auto& w : plan.waivers) {
      if (w.table != r.table->name || w.service == r.table->owner) continue;
      const plan::Service* s = plan.findService(w.service);
      if (!s) continue;
      WaivedWrite ww = waivedWrite(w, snapshot ? &*snapshot : nullptr);
      std::vector<std::string> missing = missingColumns(catalog, r.oid, w.columns);
      if (!missing.empty()) {
        problems.push_back(fmt::format("{}: [[waiver]] columns: {} has no column {}", w.pos.str(),
                                       r.display(), util::join(missing, ", ")));
        continue;
      }
      for (const auto& role : s->roles) {
        waived[role] = waivedGrant(catalog, role, r.oid, ww);
      }
    }
    actions.push_back(relationAction(r, plan, waived, changer));
  }
  if (!problems.empty()) {
    throw Error::precondition("ownership_waiver", "step ownership cannot start; nothing changed",
                              "list only columns the waived table has")
        .withDetails(problems);
  }
  // Sequences no column owns, used by one service's tables' defaults, after
  // the tables (a shared one is the shared_sequences gate's).
  for (const auto& seq : relations::readDefaultSequences(catalog, relations)) {
    const std::string group = seq.owner();
    if (group.empty()) continue;
    auto gs = seq.state.acl.grantees();
    if (seq.state.owner != group && std::find(gs.begin(), gs.end(), group) != gs.end()) {
      // ALTER OWNER would merge the group's items: no exact inverse.
      problems.push_back(fmt::format(
          "sequence {} grants privileges to role {} already; ALTER OWNER would merge them and "
          "rollback could not restore them exactly",
          seq.state.display(), group));
      continue;
    }
    std::vector<std::string> waived;
    for (const plan::Table* t : seq.tables) {
      for (const auto& role : waivedRoles(*t, plan)) {
        if (std::find(waived.begin(), waived.end(), role) == waived.end()) waived.push_back(role);
      }
    }
    if (auto a = sequenceAction(seq, plan, waived, changer)) actions.push_back(std::move(*a));
  }
  if (!problems.empty()) {
    throw Error::precondition("ownership_acl", "step ownership cannot start; nothing changed",
                              "REVOKE those privileges from the group role first")
        .withDetails(problems);
  }
  // Views over one service's tables follow them, after all tables' actions;
  // the others stay with their owner and are named in the description of the
  // last table action of each service they read.
  std::map<std::string, std::vector<std::string>> left_alone;  // service -> views
  for (const auto& v : readViews(catalog, relations)) {
    std::set<std::string> services;
    bool unplanned = false;
    for (const auto& base : v.bases) {
      auto it = service_of.find(base);
      if (it == service_of.end()) {
        unplanned = true;
      } else {
        services.insert(it->second);
      }
    }
    const RelationState& view = v.relation;
    if (unplanned || services.size() != 1) {
      for (const auto& s : services) {
        left_alone[s].push_back(
            view.display() +
            (unplanned ? " (reads tables outside the plan)"
                       : " (reads tables of " +
                             util::join(std::vector<std::string>(services.begin(), services.end()),
                                        ", ") +
                             ")"));
      }
      continue;
    }
    const std::string& group = *services.begin();
    if (view.owner == group) continue;
    auto gs = view.acl.grantees();
    if (std::find(gs.begin(), gs.end(), group) != gs.end()) {
      // ALTER OWNER would merge the group's items: no exact inverse.
      left_alone[group].push_back(view.display() + " (grants to the group already)");
      continue;
    }
    actions.push_back(viewAction(v, group, plan, changer));
  }
  for (const auto& [service, views] : left_alone) {
    engine::Action& a = actions[last_table_action.at(service)];
    a.description += "; views left to their owner: " + util::join(views, ", ");
  }
  return actions;
}

}  // namespace

}  // namespace dbsplit::steps
