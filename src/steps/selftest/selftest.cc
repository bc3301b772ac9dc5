#include "steps/selftest/selftest.h"

#include <algorithm>

#include "engine/fault.h"
#include "engine/mover.h"
#include "fmt/format.h"
#include "sql/quote.h"
#include "sql/template.h"
#include "util/hash.h"

namespace dbsplit::steps {
namespace {

class SelftestStep : public engine::Step {
 public:
  SelftestStep();  // registers the step's data mover
  bool standalone() const override { return true; }
  nlohmann::json inputs(const plan::Plan& plan) const override;
  std::vector<engine::Action> plan(const engine::PlanContext& ctx) const override;
};

}  // namespace
namespace {

constexpr const char* kSchema = "dbsplit_selftest";
constexpr const char* kColumn = "dbsplit_selftest";
constexpr const char* kRemoteTable = "public.dbsplit_selftest_remote";
constexpr const char* kFilledTable = "public.dbsplit_selftest_filled";
constexpr const char* kFillMover = "selftest.fill";
constexpr int kFillRows = 1000;
constexpr int kFillBatch = 100;

bool wants(const plan::Plan& plan, const std::string& kind) {
  const auto& kinds = plan.selftest.kinds;
  return kinds.empty() || std::find(kinds.begin(), kinds.end(), kind) != kinds.end();
}

// Index names are limited to 63 bytes; a hash keeps hostile table names legal.
std::string indexName(const plan::QualifiedName& t) {
  return "dbsplit_selftest_" + util::sha256Hex(t.display()).substr(0, 12);
}

}  // namespace

nlohmann::json SelftestStep::inputs(const plan::Plan& plan) const {
  nlohmann::json tables = nlohmann::json::array();
  for (const auto& t : plan.tables) tables.push_back(t.name.display());
  return {{"tables", tables}, {"kinds", plan.selftest.kinds}};
}

std::vector<engine::Action> SelftestStep::plan(const engine::PlanContext& ctx) const {
  const plan::Plan& plan = ctx.plan;
  pg::Session& catalog = ctx.catalog;
  std::vector<engine::Action> actions;
  if (wants(plan, "schema") &&
      catalog.scalar("SELECT 1 FROM pg_namespace WHERE nspname = $1", std::string(kSchema))
              .value_or("") != "1") {
    engine::Action a;
    a.id = "selftest/schema";
    a.description = "a scratch schema";
    a.forward = "CREATE SCHEMA " + sql::quoteIdent(kSchema) + ";";
    a.inverse = "DROP SCHEMA " + sql::quoteIdent(kSchema) + ";";
    a.lock = {"none", ""};
    actions.push_back(a);
  }
  // One catalog query for every table: planning stays fast on big plans.
  nlohmann::json names = nlohmann::json::array();
  for (const auto& t : plan.tables) names.push_back({t.name.schema, t.name.name});
  pg::Result rels = catalog.execParams(
      "SELECT c.oid IS NOT NULL, obj_description(c.oid, 'pg_class'),"
      "       EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = c.oid AND attname = $2"
      "               AND NOT attisdropped),"
      "       (SELECT attname FROM pg_attribute WHERE attrelid = c.oid AND attnum > 0"
      "          AND NOT attisdropped ORDER BY attnum LIMIT 1),"
      "       coalesce(c.relkind = 'p', false)"
      "  FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS t(v, ord)"
      "  LEFT JOIN pg_namespace n ON n.nspname = t.v->>0"
      "  LEFT JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = t.v->>1"
      "       AND c.relkind IN ('r', 'p')"
      " ORDER BY t.ord",
      names.dump(), std::string(kColumn));
  for (size_t i = 0; i < plan.tables.size(); ++i) {
    const auto& t = plan.tables[i];
    const pg::Row rel = rels[static_cast<size_t>(i)];
    if (!rel[0].as<bool>()) {
      throw Error::precondition(
          "table_missing",
          fmt::format("{}: table {} does not exist", t.pos.str(), t.name.display()),
          "create it or remove it from the plan");
    }
    const std::string table = t.name.quoted();
    const std::string display = t.name.display();
    if (wants(plan, "comment")) {
      engine::Action a;
      a.id = "selftest/comment/" + display;
      a.description = "mark the table's owner in its comment";
      a.forward = sql::renderTemplate(
          "selftest/comment.sql",
          {{"table", table},
           {"comment", sql::quoteLiteral("dbsplit selftest: owned by " + t.owner)}});
      a.inverse = sql::renderTemplate(
          "selftest/comment.sql",
          {{"table", table},
           {"comment", rel[1].is_null() ? "NULL" : sql::quoteLiteral(rel[1].c_str())}});
      a.lock = {"SHARE UPDATE EXCLUSIVE", display};
      actions.push_back(a);
    }
    if (wants(plan, "column") && !rel[2].as<bool>()) {
      engine::Action a;
      a.id = "selftest/column/" + display;
      a.description = "add a nullable column (instant, but needs ACCESS EXCLUSIVE)";
      a.forward =
          fmt::format("ALTER TABLE {}\n  ADD COLUMN {} integer;", table, sql::quoteIdent(kColumn));
      a.inverse = fmt::format("ALTER TABLE {}\n  DROP COLUMN {};", table, sql::quoteIdent(kColumn));
      a.lock = {"ACCESS EXCLUSIVE", display};
      actions.push_back(a);
    }
    // PostgreSQL builds no index CONCURRENTLY on a partitioned parent.
    bool partitioned = rel[4].as<bool>();
    if (wants(plan, "index") && !rel[3].is_null() && !partitioned) {
      std::string idx = indexName(t.name);
      engine::Action a;
      a.id = "selftest/index/" + display;
      a.description = "build an index without blocking writes";
      a.forward = fmt::format("CREATE INDEX CONCURRENTLY IF NOT EXISTS {}\n  ON {} ({});",
                              sql::quoteIdent(idx), table, sql::quoteIdent(rel[3].c_str()));
      a.inverse = fmt::format("DROP INDEX CONCURRENTLY IF EXISTS {};",
                              sql::quoteQualified(t.name.schema, idx));
      a.verify = fmt::format(
          "SELECT EXISTS (SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
          " JOIN pg_namespace n ON n.oid = c.relnamespace"
          " WHERE n.nspname = {} AND c.relname = {} AND i.indisvalid)",
          sql::quoteLiteral(t.name.schema), sql::quoteLiteral(idx));
      a.transactional = false;
      a.lock = {"SHARE UPDATE EXCLUSIVE", display};
      actions.push_back(a);
    }
  }
  // Opt-in kinds (not part of "all"): the engine's other databases and movers.
  if (wants(plan, "remote") && !plan.selftest.kinds.empty()) {
    for (const auto& service : plan.services) {
      if (service.database.empty()) continue;
      engine::Action a;
      a.id = "selftest/remote/" + service.name;
      a.description = "a scratch table in the service's own database";
      a.database = service.name;
      a.forward = fmt::format("CREATE TABLE {} (id integer PRIMARY KEY);", kRemoteTable);
      a.inverse = fmt::format("DROP TABLE {};", kRemoteTable);
      a.lock = {"none", ""};
      actions.push_back(a);
    }
  }
  if (wants(plan, "mover") && !plan.selftest.kinds.empty()) {
    engine::Action table;
    table.id = "selftest/filled";
    table.description = "a scratch table for the data mover";
    table.forward = fmt::format("CREATE TABLE {} (n integer PRIMARY KEY);", kFilledTable);
    table.inverse = fmt::format("DROP TABLE {};", kFilledTable);
    table.lock = {"none", ""};
    actions.push_back(table);
    engine::Action fill;
    fill.id = "selftest/fill";
    fill.description = "a data mover: rows in batches, resumable";
    fill.mover = kFillMover;
    fill.mover_args = nlohmann::json({{"rows", kFillRows}, {"batch", kFillBatch}}).dump();
    fill.forward = fmt::format("-- insert n = 1..{} into {}, {} rows a transaction", kFillRows,
                               kFilledTable, kFillBatch);
    fill.inverse = fmt::format("DELETE FROM {};", kFilledTable);
    fill.verify = fmt::format("SELECT count(*) = {} FROM {}", kFillRows, kFilledTable);
    fill.transactional = false;
    fill.lock = {"ROW EXCLUSIVE", kFilledTable};
    actions.push_back(fill);
  }
  return actions;
}

SelftestStep::SelftestStep()
    : Step("selftest", "engine self-test: harmless, reversible DDL on the plan's tables") {
  // Resumable: each batch commits on its own and skips rows already there, so
  // a kill between batches (DBSPLIT_FAULT=selftest/fill#<batch>:after) loses
  // nothing and duplicates nothing.
  engine::registerMover(kFillMover, [](engine::MoverContext& mc) {
    auto args = nlohmann::json::parse(mc.action.mover_args);
    const int rows = args.at("rows").get<int>();
    const int batch = args.at("batch").get<int>();
    auto session = pg::Session::connect({mc.target_dsn, mc.application_name, false, 10});
    auto progress = mc.out.progress("fill", rows, "rows");
    for (int first = 1, n = 1; first <= rows; first += batch, ++n) {
      mc.check_alive();
      session->execParams(fmt::format("INSERT INTO {} SELECT g FROM generate_series($1::int, "
                                      "$2::int) g ON CONFLICT DO NOTHING",
                                      kFilledTable),
                          first, std::min(rows, first + batch - 1));
      progress->advance(std::min(batch, rows - first + 1));
      engine::faultPoint(mc.action.id + "#" + std::to_string(n), engine::FaultPoint::kAfter);
    }
  });
}

const engine::Step* selftestStep() {
  static const SelftestStep step;
  return &step;
}

}  // namespace dbsplit::steps
