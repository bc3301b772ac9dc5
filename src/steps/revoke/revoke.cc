// The revoke step: inputs, gates and the planner (see revoke.h).
#include "steps/revoke/revoke.h"

#include "catalogue/collector.h"
#include "catalogue/source.h"
#include "fmt/format.h"
#include "relations/admin.h"
#include "relations/relations.h"
#include "steps/revoke/catalog.h"
#include "steps/revoke/gates.h"
#include "steps/revoke/shared_gate.h"
#include "steps/revoke/sql.h"
#include "util/error.h"
#include "util/text.h"
#include "util/time.h"

namespace dbsplit::steps {
namespace {

// Functions (schema.name) among `names` whose every overload is SECURITY DEFINER.
constexpr const char* kDefiners = R"SQL(
SELECT n.nspname || '.' || p.proname
  FROM pg_catalog.pg_proc p
  JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname || '.' || p.proname IN (SELECT pg_catalog.json_array_elements_text($1::json))
 GROUP BY 1
HAVING pg_catalog.bool_and(p.prosecdef))SQL";

revoke::SharedFacts readSharedFacts(const engine::PlanContext& ctx,
                                    const std::vector<revoke::SharedItem>& items) {
  revoke::SharedFacts facts;
  const std::string prefix = "projections/view/";
  if (ctx.journal) {
    for (const journal::ActionRecord& a : ctx.journal->actions("projections")) {
      if (a.status == journal::ActionStatus::kApplied && a.id.rfind(prefix, 0) == 0) {
        facts.rebuilt.insert(a.id.substr(prefix.size()));
      }
    }
  }
  nlohmann::json functions = nlohmann::json::array();
  for (const auto& item : items) {
    if (item.kind == "function") functions.push_back(item.name);
  }
  if (!functions.empty()) {
    for (const auto& row : ctx.catalog.execParams(kDefiners, functions.dump())) {
      facts.definers.insert(row[0].c_str());
    }
  }
  return facts;
}

class RevokeStep : public engine::Step {
 public:
  RevokeStep()
      : Step("revoke",
             "take other services' and PUBLIC's access to each service's tables (gated on "
             "compare and a quiet deprecation window)") {}
  nlohmann::json inputs(const plan::Plan& plan) const override;
  std::vector<engine::Gate> gates(const engine::PlanContext& ctx) const override;
  std::vector<engine::Action> plan(const engine::PlanContext& ctx) const override;
};

}  // namespace

using namespace revoke;

const engine::Step* revokeStep() {
  static const RevokeStep step;
  return &step;
}

// The gate settings (window, require_compare, mode) only open gates; they
// change no action, so they are not inputs.
nlohmann::json RevokeStep::inputs(const plan::Plan& plan) const {
  nlohmann::json services = nlohmann::json::array();
  for (const auto& s : plan.services) services.push_back({{"name", s.name}, {"roles", s.roles}});
  nlohmann::json tables = nlohmann::json::array();
  for (const auto& t : plan.tables)
    tables.push_back({{"name", t.name.display()}, {"owner", t.owner}});
  nlohmann::json inputs = {{"services", services}, {"tables", tables}};
  // A kept view is left out of the revocations; the other decisions only open
  // the shared_objects gate. Only when there are any: older journals keep their hash.
  nlohmann::json kept = nlohmann::json::array();
  for (const auto& o : plan.shared) {
    if (o.kind == "view" && o.decision == "keep") kept.push_back(o.name.display());
  }
  if (!kept.empty()) inputs["kept_views"] = kept;
  return inputs;
}

namespace {

acl::Actor actorOf(pg::Session& catalog) {
  return relations::currentUserIsSuperuser(catalog) ? acl::Actor::kSuperuser : acl::Actor::kMember;
}

// The step revokes and grants back as each object's owner and as every other
// grantor (SET ROLE), and alters default privileges for their roles: a
// superuser may; a managed admin must have those roles' privileges. The
// ownership step joined the owners and grantors of the plan's tables; what
// it did not (a grantor since, a default ACL's role) is named here.
engine::Gate membershipsGate(pg::Session& catalog, const Objects& objects) {
  relations::AdminRole admin = relations::readAdminRole(catalog);
  if (admin.superuser)
    return {"memberships", true, "connected as a superuser: it acts as any role"};
  std::vector<std::string> roles;
  auto addAcl = [&roles](const std::vector<acl::AclItem>& items) {
    for (const auto& i : items) roles.push_back(i.grantor);
  };
  for (const auto& r : objects.relations) {
    roles.push_back(r.state.owner);
    addAcl(r.state.acl.table);
    for (const auto& c : r.state.acl.columns) addAcl(c.items);
  }
  for (const auto& s : objects.schemas) {
    roles.push_back(s.owner);
    addAcl(s.items);
  }
  for (const auto& d : objects.defaults) {
    roles.push_back(d.role);
    addAcl(d.items);
  }
  std::vector<relations::MissingRole> missing = relations::missingRoles(catalog, admin, roles);
  if (missing.empty()) {
    return {
        "memberships", true,
        fmt::format("{} has the privileges of every owner and grantor it revokes as", admin.name)};
  }
  std::vector<std::string> names;
  for (auto& m : missing) {
    names.push_back(m.role);
    m.grantable = false;  // the step joins nobody itself: say the statement
  }
  return {"memberships", false,
          fmt::format("{} must revoke as {} (owners and grantors of what it revokes, roles of "
                      "default privileges) and has not their privileges: {}",
                      admin.name, util::join(names, ", "),
                      relations::membershipAdvice(admin, missing))};
}

}  // namespace

std::vector<engine::Gate> RevokeStep::gates(const engine::PlanContext& ctx) const {
  const plan::Plan& plan = ctx.plan;
  Objects objects = readObjects(ctx.catalog, plan);
  std::vector<Revocation> revocations = planRevocations(plan, objects, actorOf(ctx.catalog));
  std::vector<journal::SnapshotRecord> catalogues, compares, relay_starts;
  if (ctx.journal) {
    catalogues = ctx.journal->snapshots("catalogue");
    compares = ctx.journal->snapshots("compare");
    relay_starts = ctx.journal->snapshots("relay_start");
  }
  // Consumers: services that lose privileges, and services seen reading
  // another's table in the latest stored catalogue snapshot (through PUBLIC,
  // say).
  std::set<std::string> consumers;
  bool public_access = false;
  for (const auto& r : revocations) {
    consumers.insert(r.consumers.begin(), r.consumers.end());
    public_access = public_access || r.public_access;
  }
  std::vector<CrossAccess> stored;
  const journal::SnapshotRecord* latest = nullptr;
  for (const auto& s : catalogues) {
    if (!latest || s.id > latest->id) latest = &s;
  }
  std::optional<catalogue::Snapshot> stored_snapshot;
  if (latest) {
    nlohmann::json j = nlohmann::json::parse(latest->body, nullptr, false);
    if (!j.is_discarded()) {
      try {
        stored_snapshot = catalogue::Snapshot::fromJson(j);
        stored = crossAccesses(*stored_snapshot, objects.owner_of, &plan);
      } catch (const Error&) {
      }
    }
  }
  for (const auto& a : stored) consumers.insert(a.service);

  // Today's statements, from the plan's catalogue sources, when there is
  // anything to prove or to observe.
  const bool observe = plan.revoke.mode == "observe";
  std::optional<catalogue::Snapshot> now;
  std::string now_error;
  if (observe || !consumers.empty() || public_access) {
    try {
      auto sources = catalogue::chooseSources({}, &plan);
      catalogue::checkSources(sources);
      now = catalogue::collect(sources, &plan, ctx.catalog);
    } catch (const Error& e) {
      now_error = e.what();
    }
  }
  std::vector<CrossAccess> today = now ? crossAccesses(*now, objects.owner_of, &plan) : stored;
  for (const auto& a : today) consumers.insert(a.service);

  // Views and functions read across: today's statements when collected, else the snapshot's.
  std::vector<catalogue::SharedSurface> seen;
  if (now) {
    seen = catalogue::sharedSurface(*now, objects.owner_of);
  } else if (stored_snapshot) {
    seen = catalogue::sharedSurface(*stored_snapshot, objects.owner_of);
  }
  std::vector<SharedItem> shared = sharedItems(objects, seen);

  std::vector<engine::Gate> gates;
  gates.push_back(sharedObjectsGate(plan, shared, readSharedFacts(ctx, shared)));
  gates.push_back(compareGate(plan, today, objects.root_of, compares, relay_starts));
  gates.push_back(windowGate(plan, consumers, objects.owner_of, catalogues, now ? &*now : nullptr,
                             now_error, util::nowUnixMillis()));
  if (!revocations.empty()) gates.push_back(membershipsGate(ctx.catalog, objects));
  if (observe) {
    std::string where =
        now ? "today's statements (catalogue sources read now)"
            : (latest ? fmt::format("catalogue snapshot #{} of {}", latest->id, latest->taken_at)
                      : std::string("no catalogue snapshot"));
    gates.push_back(observeGate(today, where));
  }
  return gates;
}

std::vector<engine::Action> RevokeStep::plan(const engine::PlanContext& ctx) const {
  std::vector<engine::Action> actions;
  for (const auto& r :
       planRevocations(ctx.plan, readObjects(ctx.catalog, ctx.plan), actorOf(ctx.catalog))) {
    actions.push_back(toAction(r));
  }
  return actions;
}

}  // namespace dbsplit::steps
