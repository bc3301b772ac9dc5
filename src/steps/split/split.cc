// The split step's planner: schema mode first (split_schema.cc), then, in
// database mode, the replication and cutover actions per service with a
// `database` (split_database.cc).
#include "steps/split/split.h"

#include "cutover/cutover.h"
#include "fmt/format.h"
#include "pg/conninfo.h"
#include "pgbouncer/console.h"
#include "pgbouncer/movers.h"
#include "replication/movers.h"
#include "steps/split/database.h"
#include "steps/split/schema.h"
#include "util/text.h"

namespace dbsplit::steps {
namespace {

class SplitStep : public engine::Step {
 public:
  SplitStep()
      : Step("split",
             "owner tables into the owner's schema; optionally into their own database with a "
             "fenced cutover") {}
  nlohmann::json inputs(const plan::Plan& plan) const override;
  std::vector<engine::Gate> gates(const engine::PlanContext& ctx) const override;
  std::vector<engine::Action> plan(const engine::PlanContext& ctx) const override;
  // After a database-mode cutover the service writes in its new database:
  // rolling back drops what is there, those writes included.
  std::string rollbackDestroys(const std::vector<std::string>& applied) const override;
};

// [step.split] pgbouncer: the console answers, which pools serve this
// database, and (database mode) every service's `pgbouncer_pool` exists.
engine::Gate pgbouncerGate(const engine::PlanContext& ctx, const std::string& database) {
  engine::Gate g{"pgbouncer", false, ""};
  try {
    auto console = pgbouncer::Console::open(ctx.plan.split.pgbouncer,
                                            "dbsplit/" + ctx.plan.migration.name + "/split");
    std::vector<std::string> pools = console->poolsFor(database);
    std::vector<std::string> missing;
    if (ctx.plan.split.mode == "database") {
      std::vector<pgbouncer::Pool> all = console->pools();
      for (const plan::Service& s : ctx.plan.services) {
        if (s.pgbouncer_pool.empty()) continue;
        bool known = false;
        for (const pgbouncer::Pool& p : all) known = known || p.name == s.pgbouncer_pool;
        if (!known) missing.push_back(s.pgbouncer_pool + " (service " + s.name + ")");
      }
    }
    const std::string what = ctx.plan.split.mode == "database"
                                 ? "RECONNECT after the move, PAUSE/RESUME around each cutover"
                                 : "RECONNECT after the move";
    g.passed = missing.empty();
    g.evidence = !missing.empty()
                     ? fmt::format(
                           "PgBouncer at {} has no pool named {}: add it to its [databases] "
                           "and RELOAD, or fix [[service]] pgbouncer_pool",
                           pg::redactDsn(ctx.plan.split.pgbouncer), util::join(missing, ", "))
                 : pools.empty()
                     ? fmt::format("the console at {} answers; no pool serves database {} yet ({})",
                                   pg::redactDsn(ctx.plan.split.pgbouncer), database, what)
                     : fmt::format("the console at {} answers; pools of database {}: {} ({})",
                                   pg::redactDsn(ctx.plan.split.pgbouncer), database,
                                   util::join(pools, ", "), what);
  } catch (const Error& e) {
    g.evidence = fmt::format("[step.split] pgbouncer: {}", e.what());
  }
  return g;
}

// After the moves: pooled server connections are replaced, once released, by
// ones with the owner roles' new search_path (the old ones keep working
// through the compatibility views meanwhile).
engine::Action reconnectAction(const std::string& database) {
  engine::Action a;
  a.id = "split/pgbouncer_reconnect";
  a.description = "PgBouncer: RECONNECT the pools of database " + database;
  a.forward = "-- mover split.pgbouncer_reconnect: RECONNECT every pool whose server database is " +
              database + " on the admin console ([step.split] pgbouncer)";
  a.inverse = "SELECT 'RECONNECT changed nothing to undo';";
  a.mover = "split.pgbouncer_reconnect";
  a.mover_args = nlohmann::json{{"database", database}}.dump();
  a.transactional = false;
  a.lock = {"none", ""};
  return a;
}

}  // namespace

const engine::Step* splitStep() {
  replication::registerMovers();
  cutover::registerMover();
  pgbouncer::registerMovers();
  static const SplitStep step;
  return &step;
}

std::string SplitStep::rollbackDestroys(const std::vector<std::string>& applied) const {
  const std::string prefix = "split/cutover/";
  std::vector<std::string> services;
  for (const auto& id : applied) {
    if (id.rfind(prefix, 0) == 0) services.push_back(id.substr(prefix.size()));
  }
  if (services.empty()) return {};
  return fmt::format(
      "what the split put in the own database of {} (dropped or emptied), with every write "
      "those services made there since their cutover",
      util::join(services, ", "));
}

nlohmann::json SplitStep::inputs(const plan::Plan& plan) const {
  nlohmann::json tables = nlohmann::json::array();
  for (const plan::Table& t : plan.tables) {
    tables.push_back({{"table", t.name.display()}, {"owner", t.owner}});
  }
  nlohmann::json services = nlohmann::json::array();
  for (const plan::Service& s : plan.services) {
    // Hashed and kept in the journal: never the password.
    services.push_back({{"name", s.name},
                        {"roles", s.roles},
                        {"database", s.database.empty() ? "" : pg::redactDsn(s.database)}});
  }
  return {{"tables", tables},
          {"services", services},
          {"mode", plan.split.mode},
          {"allow_unqualified", plan.split.allow_unqualified},
          {"on_cutover", plan.split.on_cutover},
          {"pgbouncer", pg::redactDsn(plan.split.pgbouncer)}};
}

std::vector<engine::Gate> SplitStep::gates(const engine::PlanContext& ctx) const {
  std::vector<engine::Gate> out;
  split::SchemaPlan sp = split::readSchemaPlan(ctx.catalog, ctx.plan);
  engine::Gate refs{"unqualified_references", true, ""};
  if (sp.blocked.empty()) {
    refs.evidence = fmt::format(
        "no function names the {} moving relation(s) without a schema "
        "and no other role holds privileges on them",
        sp.moves.size());
  } else {
    refs.passed = ctx.plan.split.allow_unqualified;
    refs.evidence = fmt::format("{} object(s) would break when the tables move: {}{}",
                                sp.blocked.size(), util::join(sp.blocked, "; "),
                                refs.passed ? " (accepted: allow_unqualified = true)"
                                            : ". Qualify them, or set [step.split] "
                                              "allow_unqualified = true to accept");
  }
  if (!sp.pins.empty()) {
    std::vector<std::string> pinned;
    for (const split::FunctionPin& p : sp.pins) pinned.push_back(p.signature);
    refs.evidence += fmt::format(
        "; {} function(s) that name moving relations without a schema get a pinned "
        "search_path first (split/pin_search_path) and keep working: {}",
        pinned.size(), util::join(pinned, ", "));
  }
  out.push_back(refs);
  engine::Gate views{"views_follow", true, ""};
  views.evidence = sp.follow.empty()
                       ? "no view reads a moving table"
                       : fmt::format(
                             "{} view(s) are bound to the tables, not their names, and "
                             "follow the move: {}",
                             sp.follow.size(), util::join(sp.follow, ", "));
  out.push_back(views);
  if (!ctx.plan.split.pgbouncer.empty()) out.push_back(pgbouncerGate(ctx, sp.database));
  if (ctx.plan.split.mode == "database") {
    for (engine::Gate& g :
         split::databaseGates(split::readDatabaseFacts(ctx.catalog, ctx.plan, sp))) {
      out.push_back(std::move(g));
    }
  }
  return out;
}

std::vector<engine::Action> SplitStep::plan(const engine::PlanContext& ctx) const {
  split::SchemaPlan sp = split::readSchemaPlan(ctx.catalog, ctx.plan);
  std::vector<engine::Action> actions = split::schemaActions(sp);
  if (!ctx.plan.split.pgbouncer.empty() && !sp.moves.empty()) {
    actions.push_back(reconnectAction(sp.database));
  }
  if (ctx.plan.split.mode == "database") {
    for (engine::Action& a :
         split::databaseActions(ctx.plan, split::readDatabaseFacts(ctx.catalog, ctx.plan, sp))) {
      actions.push_back(std::move(a));
    }
  }
  return actions;
}

}  // namespace dbsplit::steps
