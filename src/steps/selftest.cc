#include "steps/selftest.h"

#include <algorithm>

#include "fmt/format.h"
#include "sql/quote.h"
#include "sql/template.h"
#include "util/hash.h"

namespace dbsplit::steps {
namespace {

constexpr const char* kSchema = "dbsplit_selftest";
constexpr const char* kColumn = "dbsplit_selftest";

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
  pqxx::result rels = catalog.execParams(
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
    const pqxx::row rel = rels[static_cast<pqxx::row::size_type>(i)];
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
  return actions;
}

}  // namespace dbsplit::steps
