// The projections step's planner: pure; SQL from templates/projections/. The
// data-moving actions name a mover (src/relay/movers.cc) that the engine calls
// instead of running SQL; their `forward` describes what the mover does.
#include "steps/projections/projections.h"

#include <algorithm>
#include <map>

#include "backfill/movers.h"
#include "fmt/format.h"
#include "pg/conninfo.h"
#include "relay/cursor.h"
#include "relay/spec.h"
#include "sql/quote.h"
#include "sql/template.h"
#include "steps/projections/rebuilt_views.h"
#include "util/text.h"

namespace dbsplit::steps {
namespace {

class ProjectionsStep : public engine::Step {
 public:
  ProjectionsStep()
      : Step("projections",
             "consumer-owned projection tables, snapshot backfill and relay cursors") {}
  nlohmann::json inputs(const plan::Plan& plan) const override;
  std::vector<engine::Action> plan(const engine::PlanContext& ctx) const override;
  std::string rollbackDestroys(const std::vector<std::string>&) const override {
    return "the projection tables and the relay cursors (the owner's data stays; a new run "
           "backfills them again)";
  }
};

}  // namespace
namespace {

using relay::ProjectionSpec;

std::string projectionComment(const ProjectionSpec& p) {
  return fmt::format("dbsplit projection of {} for consumer {}, kept fresh by `dbsplit relay`",
                     p.source.display(), p.consumer);
}

std::string cursorComment(const std::string& consumer) {
  return fmt::format("dbsplit relay cursors of consumer {}: one row per outbox it reads", consumer);
}

// What the consumer's database holds already (read-only).
struct TargetFacts {
  bool schema_exists = false;
  std::map<std::string, std::string> table_comments;  // table name -> comment ("" none)
};

TargetFacts readTarget(pg::Session& s, const std::string& consumer) {
  TargetFacts f;
  f.schema_exists = s.scalar("SELECT 1 FROM pg_namespace WHERE nspname = $1", consumer).has_value();
  for (const auto& row :
       s.execParams("SELECT c.relname, coalesce(obj_description(c.oid, 'pg_class'), '')"
                    "  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                    " WHERE n.nspname = $1",
                    consumer)) {
    f.table_comments[row[0].c_str()] = row[1].c_str();
  }
  return f;
}

engine::Action base(const ProjectionSpec& p, std::string id) {
  engine::Action a;
  a.id = std::move(id);
  a.database = p.database_service;
  return a;
}

engine::Action schemaAction(const ProjectionSpec& p) {
  engine::Action a = base(p, "projections/schema/" + p.consumer);
  a.description = fmt::format("create schema {} owned by group {} in the consumer's database",
                              p.consumer, p.consumer);
  a.forward = fmt::format("CREATE SCHEMA {0}\n  AUTHORIZATION {0};", sql::quoteIdent(p.consumer));
  a.inverse = fmt::format("DROP SCHEMA {};", sql::quoteIdent(p.consumer));
  a.lock = {"none", ""};
  return a;
}

engine::Action tableAction(const ProjectionSpec& p) {
  engine::Action a = base(p, "projections/table/" + p.id());
  std::string columns;
  for (size_t i = 0; i < p.columns.size(); ++i) {
    const auto& c = p.columns[i];
    bool key = std::find(p.key.begin(), p.key.end(), c.name) != p.key.end();
    columns += fmt::format("  {} {}{}{}", sql::quoteIdent(c.name), c.type, key ? " NOT NULL" : "",
                           i + 1 < p.columns.size() ? ",\n" : "");
  }
  a.description = fmt::format("create projection {} of {} ({} column(s), key {})", p.id(),
                              p.source.display(), p.columns.size(), util::join(p.key, ", "));
  a.forward = sql::renderTemplate("projections/table.sql",
                                  {{"table", p.target.quoted()},
                                   {"columns", columns},
                                   {"key", sql::quoteIdentList(p.key)},
                                   {"pkey", sql::quoteIdent(p.primaryKeyName())},
                                   {"group", sql::quoteIdent(p.consumer)},
                                   {"comment", sql::quoteLiteral(projectionComment(p))}});
  a.inverse = "DROP TABLE " + p.target.quoted() + ";";
  a.lock = {"ACCESS EXCLUSIVE", p.id() + " (new table; no existing table is locked)"};
  return a;
}

engine::Action cursorAction(const ProjectionSpec& p) {
  engine::Action a = base(p, "projections/cursor/" + p.consumer);
  auto cursor = relay::cursorTable(p.consumer), backfill = relay::backfillTable(p.consumer);
  a.description = fmt::format("create the relay cursor table {} and the backfill table {}",
                              cursor.display(), backfill.display());
  a.forward = sql::renderTemplate(
      "projections/cursor.sql",
      {{"cursor", cursor.quoted()},
       {"backfill", backfill.quoted()},
       {"group", sql::quoteIdent(p.consumer)},
       {"cursor_comment", sql::quoteLiteral(cursorComment(p.consumer))},
       {"backfill_comment",
        sql::quoteLiteral("dbsplit backfill progress of consumer " + p.consumer)}});
  a.inverse = fmt::format("DROP TABLE {};\nDROP TABLE {};", backfill.quoted(), cursor.quoted());
  a.lock = {"ACCESS EXCLUSIVE", cursor.display() + " (new tables)"};
  return a;
}

engine::Action backfillAction(const ProjectionSpec& p) {
  engine::Action a = base(p, "projections/backfill/" + p.id());
  std::vector<std::string> cols;
  for (const auto& c : p.columns) cols.push_back(c.name);
  a.description =
      fmt::format("backfill {} from {} at one exported snapshot", p.id(), p.source.display());
  a.forward = sql::renderTemplate(
      "projections/backfill.sql",
      {{"columns", sql::quoteIdentList(cols)},
       {"source", p.source.quoted()},
       {"key", sql::quoteIdentList(p.key)},
       {"target", p.target.quoted()},
       {"pkey", sql::quoteIdent(p.primaryKeyName())},
       {"chunk", "1000000"},
       {"where", p.database_service.empty() ? "the same database"
                                            : "the database of service " + p.database_service}});
  // An interrupted backfill may have left the table without its primary key
  // (it copies without one, see backfill/backfill.h): the inverse puts it back.
  std::string add_key = fmt::format(
      "BEGIN\n"
      "  IF NOT EXISTS (SELECT FROM pg_constraint\n"
      "                  WHERE conrelid = {}::regclass AND contype = 'p') THEN\n"
      "    ALTER TABLE {} ADD CONSTRAINT {} PRIMARY KEY ({});\n"
      "  END IF;\n"
      "END",
      sql::quoteLiteral(p.target.quoted()), p.target.quoted(), sql::quoteIdent(p.primaryKeyName()),
      sql::quoteIdentList(p.key));
  a.inverse = fmt::format("DELETE FROM {}\n WHERE projection = {};\nTRUNCATE {};\nDO {};",
                          relay::backfillTable(p.consumer).quoted(), sql::quoteLiteral(p.id()),
                          p.target.quoted(), sql::quoteLiteral(add_key));
  a.lock = {"ROW EXCLUSIVE", p.id()};
  a.transactional = false;
  a.mover = backfill::kBackfillMover;
  a.mover_args = nlohmann::json{{"consumer", p.consumer}, {"projection", p.id()}}.dump();
  a.verify =
      fmt::format("SELECT coalesce(bool_or(complete), false)\n  FROM {}\n WHERE projection = {}",
                  relay::backfillTable(p.consumer).quoted(), sql::quoteLiteral(p.id()));
  return a;
}

engine::Action startAction(const std::vector<const ProjectionSpec*>& specs) {
  const ProjectionSpec& p = *specs.front();
  engine::Action a = base(p, "projections/start/" + p.consumer);
  std::vector<std::string> outboxes;
  for (const auto* s : specs) {
    if (std::find(outboxes.begin(), outboxes.end(), s->outbox.display()) == outboxes.end()) {
      outboxes.push_back(s->outbox.display());
    }
  }
  std::vector<std::string> literals;
  for (const auto& o : outboxes) literals.push_back(sql::quoteLiteral(o));
  auto cursor = relay::cursorTable(p.consumer);
  a.description =
      fmt::format("start the relay of {} at the backfill snapshot and catch up once", p.consumer);
  a.forward =
      sql::renderTemplate("projections/start.sql", {{"consumer", p.consumer},
                                                    {"outboxes", util::join(outboxes, ", ")},
                                                    {"cursor", cursor.quoted()}});
  a.inverse = fmt::format("DELETE FROM {}\n WHERE outbox IN ({});", cursor.quoted(),
                          util::join(literals, ", "));
  a.lock = {"none", ""};
  a.transactional = false;
  a.mover = backfill::kStartMover;
  a.mover_args = nlohmann::json{{"consumer", p.consumer}}.dump();
  a.verify = fmt::format("SELECT count(*) = {}\n  FROM {}\n WHERE outbox IN ({})", outboxes.size(),
                         cursor.quoted(), util::join(literals, ", "));
  return a;
}

pg::ConnectOptions targetOptions(const plan::Plan& plan, const std::string& dsn) {
  pg::ConnectOptions o;
  o.dsn = dsn;
  o.application_name = "dbsplit/" + plan.migration.name + "/projections";
  o.read_only = true;
  return o;
}

}  // namespace

const engine::Step* projectionsStep() {
  static const ProjectionsStep step;
  backfill::registerMovers();
  return &step;
}

nlohmann::json ProjectionsStep::inputs(const plan::Plan& plan) const {
  nlohmann::json out = nlohmann::json::array();
  for (const plan::Projection& p : plan.projections) {
    const plan::Service* s = plan.findService(p.consumer);
    const plan::Table* t = plan.findTable(p.source);
    out.push_back({{"consumer", p.consumer},
                   {"source", p.source.display()},
                   {"owner", t ? t->owner : ""},
                   {"name", p.name},
                   {"columns", p.columns},
                   {"key", p.key},
                   // Hashed and kept in the journal: never the password.
                   {"database", s && !s->database.empty() ? pg::redactDsn(s->database) : ""}});
  }
  nlohmann::json views = nlohmann::json::array();
  for (const plan::SharedObject& v : plan.shared) {
    if (v.decision != "rebuild") continue;
    views.push_back({{"name", v.name.display()}, {"service", v.service}, {"query", v.query}});
  }
  nlohmann::json inputs = {{"projections", out}};
  // Only when there are any, so that steps applied before [[view]] keep their hash.
  if (!views.empty()) inputs["views"] = views;
  return inputs;
}

std::vector<engine::Action> ProjectionsStep::plan(const engine::PlanContext& ctx) const {
  std::vector<engine::Action> actions;
  std::vector<ProjectionSpec> specs =
      relay::resolveProjections(ctx.plan, ctx.catalog, ctx.plan.migration.database);
  // The outboxes must be there (step 3).
  std::vector<std::string> problems;
  for (const auto& p : specs) {
    if (!ctx.catalog.scalar("SELECT to_regclass($1)", p.outbox.quoted())) {
      problems.push_back(
          fmt::format("{}: the outbox {} of {} does not exist: run `dbsplit run "
                      "outbox` first",
                      p.id(), p.outbox.display(), p.owner));
    }
  }
  if (!problems.empty()) throw relay::projectionsNotReady(problems, "dbsplit run outbox");
  if (auto bad = projections::rebuiltViewProblems(ctx.plan); !bad.empty()) {
    throw Error::usage("rebuilt_view_invalid",
                       "a [[view]] rebuild's query cannot be used; nothing changed",
                       "write one SELECT over the consumer's projections, each named "
                       "<consumer>.<projection>")
        .withDetails(std::move(bad));
  }
  for (const std::string& consumer : relay::consumers(ctx.plan)) {
    std::vector<const ProjectionSpec*> mine;
    for (const auto& p : specs) {
      if (p.consumer == consumer) mine.push_back(&p);
    }
    if (mine.empty()) continue;
    const ProjectionSpec& first = *mine.front();
    std::unique_ptr<pg::Session> own;
    pg::Session* target = &ctx.catalog;
    if (!first.target_dsn.empty()) {
      try {
        own = pg::Session::connect(targetOptions(ctx.plan, first.target_dsn));
      } catch (const Error& e) {
        throw Error::precondition(
            "consumer_database_unreachable",
            fmt::format("the database of consumer \"{}\" ([[service]] database) cannot be used: "
                        "{}; nothing changed",
                        consumer, e.what()),
            "create the database (createdb) or fix [[service]] database in the plan");
      }
      target = own.get();
    }
    TargetFacts facts = readTarget(*target, consumer);
    if (!first.target_dsn.empty() && !facts.schema_exists) {
      actions.push_back(schemaAction(first));
    } else if (!facts.schema_exists) {
      throw Error::precondition("projections_not_ready",
                                fmt::format("consumer \"{}\" has no schema \"{}\": run `dbsplit "
                                            "run ownership` first",
                                            consumer, consumer),
                                "dbsplit run ownership");
    }
    for (const ProjectionSpec* p : mine) {
      auto it = facts.table_comments.find(p->target.name);
      if (it == facts.table_comments.end()) {
        actions.push_back(tableAction(*p));
      } else if (it->second != projectionComment(*p)) {
        throw Error::precondition(
            "projection_table_taken",
            fmt::format("{} already exists and was not created by dbsplit; nothing changed",
                        p->id()),
            "rename or drop it, or choose another [[projection]] name");
      }
    }
    if (!facts.table_comments.count(relay::cursorTable(consumer).name)) {
      actions.push_back(cursorAction(first));
    }
    for (const ProjectionSpec* p : mine) actions.push_back(backfillAction(*p));
    actions.push_back(startAction(mine));
    // Views rebuilt for the consumer read its projections: after they are full.
    for (const plan::SharedObject& v : ctx.plan.shared) {
      if (v.decision != "rebuild" || v.service != consumer) continue;
      auto it = facts.table_comments.find(projections::rebuiltViewName(v).name);
      if (it == facts.table_comments.end()) {
        actions.push_back(projections::rebuiltViewAction(ctx.plan, v));
      } else if (it->second != projections::rebuiltViewComment(v)) {
        throw Error::precondition(
            "projection_table_taken",
            fmt::format("{} already exists and was not created by dbsplit; nothing changed",
                        projections::rebuiltViewName(v).display()),
            "rename or drop it: the rebuilt view of " + v.name.display() + " takes its name");
      }
    }
  }
  return actions;
}

}  // namespace dbsplit::steps
