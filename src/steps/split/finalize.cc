// The finalize step's gates and actions (split_finalize.h).
#include "steps/split/finalize.h"

#include "fmt/format.h"
#include "pg/conninfo.h"
#include "sql/quote.h"
#include "sql/template.h"
#include "steps/split/compat.h"
#include "steps/split/database.h"
#include "util/text.h"

namespace dbsplit::steps {
namespace {

class SplitFinalizeStep : public engine::Step {
 public:
  SplitFinalizeStep()
      : Step("finalize",
             "drop the compatibility views no session needs any more; after a database-mode "
             "cutover, drop the source copies (irreversible)") {}
  nlohmann::json inputs(const plan::Plan& plan) const override;
  std::vector<engine::Gate> gates(const engine::PlanContext& ctx) const override;
  std::vector<engine::Action> plan(const engine::PlanContext& ctx) const override;
  bool standalone() const override { return true; }
};

}  // namespace
namespace {

// An irreversible action: the engine journals an empty inverse and asks first.
engine::Action dropAction(const std::string& id, const std::string& description,
                          const std::string& forward) {
  engine::Action a;
  a.id = id;
  a.description = description;
  a.forward = forward;
  a.destructive = true;
  a.lock = {"none", ""};
  return a;
}

// Root tables (not partitions) each moving service owns, as named after the move.
std::vector<std::pair<const plan::Service*, plan::QualifiedName>> droppedTables(
    const plan::Plan& plan) {
  std::vector<std::pair<const plan::Service*, plan::QualifiedName>> out;
  for (const plan::Service* s : split::movingServices(plan)) {
    for (const plan::Table& t : plan.tables) {
      if (t.owner == s->name) out.emplace_back(s, plan::QualifiedName{s->name, t.name.name});
    }
  }
  return out;
}

// Objects outside the dropped tables that depend on them: views (but the
// compatibility views, which finalize drops first), foreign keys.
constexpr const char* kDependents = R"SQL(
WITH rels AS (SELECT c.oid FROM pg_catalog.pg_class c
               JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
              WHERE (n.nspname, c.relname) IN (SELECT x->>0, x->>1
                                                 FROM json_array_elements($1::json) x)
             UNION
             SELECT p.relid FROM pg_catalog.pg_class c
               JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
              CROSS JOIN LATERAL pg_catalog.pg_partition_tree(c.oid) p
              WHERE (n.nspname, c.relname) IN (SELECT x->>0, x->>1
                                                 FROM json_array_elements($1::json) x))
SELECT DISTINCT 'view ' || v.oid::regclass::text
  FROM pg_catalog.pg_depend d
  JOIN pg_catalog.pg_rewrite w ON w.oid = d.objid
  JOIN pg_catalog.pg_class v ON v.oid = w.ev_class
 WHERE d.classid = 'pg_catalog.pg_rewrite'::regclass
   AND d.refobjid IN (SELECT oid FROM rels) AND v.oid NOT IN (SELECT oid FROM rels)
   AND pg_catalog.obj_description(v.oid, 'pg_class') IS DISTINCT FROM $2
UNION
SELECT 'foreign key ' || con.conname || ' of ' || con.conrelid::regclass::text
  FROM pg_catalog.pg_constraint con
 WHERE con.contype = 'f' AND con.confrelid IN (SELECT oid FROM rels)
   AND con.conrelid NOT IN (SELECT oid FROM rels)
 ORDER BY 1)SQL";

// Schema mode's compatibility views stay while a session of an owner role is
// older than that role's new search_path: it still names the tables through
// them. Services cut over to their own database are fenced on the source.
engine::Gate oldSessionsGate(const engine::PlanContext& ctx,
                             const std::vector<const plan::Service*>& moving) {
  std::vector<std::string> lines;
  std::int64_t total = 0;
  for (const split::OldSessions& o : split::readOldSessions(ctx.catalog, ctx.plan, *ctx.journal)) {
    bool cut_over = false;
    for (const plan::Service* s : moving) cut_over = cut_over || s->name == o.service;
    if (cut_over) continue;
    total += o.count;
    lines.push_back(fmt::format("{} session(s) of {}{}", o.count, o.role,
                                o.oldest.empty() ? "" : " (oldest since " + o.oldest + ")"));
  }
  if (total == 0) {
    return {"old_sessions", true,
            "no session of an owner role is older than its new search_path: the compatibility "
            "views are unused"};
  }
  return {"old_sessions", false,
          fmt::format("{} session(s) opened before the split still find the tables through the "
                      "compatibility views: {}. Reconnect them (a pool's maximum lifetime, "
                      "PgBouncer's RECONNECT, or pg_terminate_backend), then run finalize again",
                      total, util::join(lines, ", "))};
}

// The replication name the split step used for `s`: from the journal when it
// holds one, else the one the split step would use on this database.
std::string replicationNameOf(const engine::PlanContext& ctx, const plan::Service& s) {
  std::string name =
      ctx.journal ? split::journaledReplicationName(*ctx.journal, s.name) : std::string();
  if (!name.empty()) return name;
  return split::replicationName(ctx.plan.migration.name, s.name,
                                split::sourceIdentity(ctx.catalog));
}

}  // namespace

const engine::Step* splitFinalizeStep() {
  static const SplitFinalizeStep step;
  return &step;
}

nlohmann::json SplitFinalizeStep::inputs(const plan::Plan& plan) const {
  nlohmann::json tables = nlohmann::json::array();
  for (const auto& [s, t] : droppedTables(plan)) {
    tables.push_back({{"service", s->name}, {"table", t.display()}});
  }
  return {{"tables", tables}};
}

std::vector<engine::Gate> SplitFinalizeStep::gates(const engine::PlanContext& ctx) const {
  std::vector<engine::Gate> out;
  auto rec = ctx.journal ? ctx.journal->step("split") : std::nullopt;
  bool applied = rec && rec->status == journal::StepStatus::kApplied;
  out.push_back({"split_applied", applied,
                 applied ? "step split is applied" : "step split is not applied: run it first"});
  auto services = split::movingServices(ctx.plan);
  const std::vector<split::CompatView> views = split::readCompatViews(ctx.catalog, ctx.plan);
  out.push_back({"something_to_finalize", !services.empty() || !views.empty(),
                 services.empty() && views.empty()
                     ? "no compatibility view is left and no [[service]] moves to its own "
                       "database ([step.split] mode = \"database\" and [[service]].database): "
                       "nothing to finalize"
                     : fmt::format("{} compatibility view(s) to drop; {} service(s) moved to "
                                   "their own database",
                                   views.size(), services.size())});
  if (!views.empty() && ctx.journal) out.push_back(oldSessionsGate(ctx, services));
  nlohmann::json names = nlohmann::json::array();
  for (const auto& [s, t] : droppedTables(ctx.plan)) names.push_back({t.schema, t.name});
  std::vector<std::string> dependents;
  for (const auto& row :
       ctx.catalog.execParams(kDependents, names.dump(), std::string(split::kCompatComment))) {
    dependents.push_back(row[0].c_str());
  }
  out.push_back({"nothing_depends", dependents.empty(),
                 dependents.empty()
                     ? "nothing outside the moved tables depends on them"
                     : fmt::format("{} object(s) on the source depend on tables finalize drops: "
                                   "{}; drop or change them first",
                                   dependents.size(), util::join(dependents, ", "))});
  if (applied) {
    for (const plan::Service* s : services) {
      std::string name = replicationNameOf(ctx, *s);
      bool done = false;
      std::string why;
      try {
        pg::ConnectOptions o;
        o.dsn = split::targetDsn(ctx.catalog, *s);
        o.read_only = true;
        o.application_name = "dbsplit/" + ctx.plan.migration.name + "/finalize";
        auto target = pg::Session::connect(o);
        done = target
                   ->scalar(
                       "SELECT 1 FROM pg_catalog.pg_subscription s WHERE s.subname = $1 "
                       "AND s.subdbid = (SELECT oid FROM pg_catalog.pg_database "
                       "WHERE datname = current_database()) "
                       "AND pg_catalog.obj_description(s.oid, 'pg_subscription') LIKE "
                       "'dbsplit cutover%'",
                       name)
                   .has_value();
      } catch (const Error& e) {
        why = e.what();
      }
      out.push_back(
          {"cutover_done", done,
           done ? fmt::format("{}: cutover done into {}", s->name, pg::redactDsn(s->database))
                : fmt::format("{}: no finished cutover in {}{}", s->name,
                              pg::redactDsn(s->database), why.empty() ? "" : ": " + why)});
    }
  }
  return out;
}

std::vector<engine::Action> SplitFinalizeStep::plan(const engine::PlanContext& ctx) const {
  // The views first: a table with a view on it cannot be dropped alone.
  std::vector<engine::Action> actions =
      split::retireActions(split::readCompatViews(ctx.catalog, ctx.plan));
  auto tables = droppedTables(ctx.plan);
  for (const plan::Service* s : split::movingServices(ctx.plan)) {
    const std::string name = replicationNameOf(ctx, *s);
    const std::string qname = sql::quoteIdent(name);
    engine::Action subscription =
        dropAction("finalize/subscription/" + s->name,
                   "drop the subscription " + name + " in " + pg::redactDsn(s->database),
                   sql::renderTemplate("split/drop_subscription.sql", {{"name", qname}}));
    subscription.database = s->name;
    actions.push_back(std::move(subscription));
    engine::Action slot = dropAction(
        "finalize/slot/" + s->name, "drop the replication slot " + name + " on the source",
        sql::renderTemplate("split/drop_slot.sql", {{"slot", sql::quoteLiteral(name)}}));
    // Dropping a slot is not undone by ROLLBACK: run alone, never inside a
    // rehearsal's transaction, and reconciled by its verify.
    slot.transactional = false;
    slot.verify =
        "SELECT NOT EXISTS (SELECT 1 FROM pg_catalog.pg_replication_slots WHERE slot_name = " +
        sql::quoteLiteral(name) + "\n   AND database = pg_catalog.current_database())";
    actions.push_back(std::move(slot));
    actions.push_back(dropAction("finalize/publication/" + s->name,
                                 "drop the publication " + name + " on the source",
                                 "DROP PUBLICATION " + qname + ";"));
    // One statement for all of them: foreign keys between them do not stand in the way.
    std::vector<std::string> quoted, shown;
    for (const auto& [svc, table] : tables) {
      if (svc != s) continue;
      quoted.push_back(table.quoted());
      shown.push_back(table.display());
    }
    if (!quoted.empty()) {
      engine::Action a = dropAction("finalize/drop/" + s->name,
                                    "drop " + util::join(shown, ", ") +
                                        " and their data from the source (they live in " +
                                        pg::redactDsn(s->database) + " now)",
                                    "DROP TABLE " + util::join(quoted, ",\n  ") + ";");
      a.lock = {"ACCESS EXCLUSIVE", util::join(shown, ", ")};
      actions.push_back(std::move(a));
    }
  }
  return actions;
}

}  // namespace dbsplit::steps
