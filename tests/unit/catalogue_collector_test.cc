// The ingestion pipeline without a server: shapes, calls, roles and services.
#include "catalogue/collector.h"
#include "catch2/catch.hpp"
#include "plan/plan.h"

using namespace dbsplit::catalogue;

namespace {
Catalog numbered() {
  Catalog c;
  std::uint32_t oid = 10;
  for (const char* name : {"t11", "t14"}) {
    Relation r;
    r.oid = ++oid;
    r.schema = "public";
    r.name = name;
    r.columns = {"id", "a", "b"};
    c.addRelation(r);
  }
  return c;
}

Observation obs(std::string text, std::string role, std::int64_t calls = 1) {
  Observation o;
  o.text = std::move(text);
  o.role = std::move(role);
  o.calls = calls;
  return o;
}
}  // namespace

TEST_CASE("tables whose names differ only in digits are never conflated", "[catalogue]") {
  // libpg_query gives these two statements one fingerprint.
  Catalog catalog = numbered();
  Collector c(catalog, nullptr);
  c.setSource("test");
  c.statement(obs("UPDATE t11 SET a = 1 WHERE id = 2", "r"));
  c.statement(obs("UPDATE t14 SET b = 1 WHERE id = 3", "r"));
  c.statement(obs("UPDATE  t14 SET b = 9 WHERE id = 4 -- again", "r", 5));
  Snapshot s = c.finish({"test"});
  std::map<std::string, std::set<std::string>> written;
  std::map<std::string, std::int64_t> calls;
  for (const auto& a : s.accesses) {
    if (a.kind == "write") {
      written[a.table] = a.columns;
      calls[a.table] = a.calls;
    }
  }
  CHECK(written ==
        std::map<std::string, std::set<std::string>>{{"public.t11", {"a"}}, {"public.t14", {"b"}}});
  CHECK(calls["public.t14"] == 6);
  CHECK(s.stats.statements == 3);
  CHECK(s.stats.calls == 7);
  CHECK(s.stats.shapes == 2);  // the comment and the spacing make no new shape
}

TEST_CASE("roles map to services, unknown roles are unassigned, not dropped", "[catalogue]") {
  auto plan = dbsplit::plan::parsePlan(
      "[migration]\nname = \"m\"\n[[service]]\nname = \"orders\"\nroles = [\"o_app\"]\n",
      "/tmp/p.toml");
  Catalog catalog = numbered();
  Collector c(catalog, &plan);
  c.setSource("test");
  c.statement(obs("SELECT a FROM t11", "o_app"));
  c.statement(obs("SELECT a FROM t11", "someone"));
  c.statement(obs("SELEC a FROM t11", "someone"));
  Snapshot s = c.finish({"test"});
  std::set<std::pair<std::string, std::string>> seen;
  for (const auto& a : s.accesses) seen.insert({a.service, a.role});
  CHECK(seen == std::set<std::pair<std::string, std::string>>{{"orders", "o_app"},
                                                              {"unassigned", "someone"}});
  REQUIRE(s.unresolved.size() == 1);
  CHECK(s.unresolved[0].reason.find("syntax error") != std::string::npos);
}

TEST_CASE("bytes that are not UTF-8 never break the JSON output", "[catalogue]") {
  Catalog catalog = numbered();
  Collector c(catalog, nullptr);
  c.setSource("log:/tmp/latin1.log");
  c.statement(obs("SELECT a FROM t11 WHERE b = 'caf\xe9'", "r\xff"));
  c.statement(obs("SELEC \xe9", "r"));
  Snapshot s = c.finish({"log:/tmp/latin1.log"});
  std::string out;
  REQUIRE_NOTHROW(out = s.toJson().dump());
  CHECK(out.find("r\xEF\xBF\xBD") != std::string::npos);
  CHECK(s.accesses.size() == 1);
  CHECK(s.unresolved.size() == 1);
}

TEST_CASE(
    "dbsplit's own sessions and machinery are left out, and its read models count only for "
    "their consumer",
    "[catalogue]") {
  Catalog catalog;
  std::uint32_t oid = 100;
  auto add = [&](const char* schema, const char* name, Relation::Made made) {
    Relation r;
    r.oid = ++oid;
    r.schema = schema;
    r.name = name;
    r.columns = {"id", "status"};
    r.made = made;
    catalog.addRelation(r);
  };
  add("public", "orders", Relation::Made::kNotByDbsplit);
  add("orders", "outbox", Relation::Made::kMachinery);
  add("ship", "dbsplit_cursor", Relation::Made::kMachinery);
  add("ship", "order_view", Relation::Made::kReadModel);
  auto plan = dbsplit::plan::parsePlan(
      "[migration]\nname = \"m\"\n[[service]]\nname = \"ship\"\nroles = [\"ship_app\"]\n",
      "/tmp/p.toml");
  Collector c(catalog, &plan);
  c.setSource("test");
  // The relay and compare, as the migration's role (no service).
  c.statement(obs("SELECT id, status FROM orders.outbox", "postgres"));
  c.statement(obs("UPDATE ship.dbsplit_cursor SET id = 1", "postgres"));
  c.statement(obs("INSERT INTO ship.order_view (id, status) VALUES (1, 'x')", "postgres"));
  // A log line that says it came from dbsplit.
  Observation own = obs("SELECT id FROM public.orders", "postgres");
  own.application = "dbsplit/m/compare";
  c.statement(own);
  // The consumer reading its projection, and someone reading the shared table.
  c.statement(obs("SELECT status FROM ship.order_view", "ship_app"));
  c.statement(obs("SELECT status FROM public.orders WHERE id = 1", "reporter"));
  Snapshot s = c.finish({"test"});
  std::set<std::string> seen;
  for (const auto& a : s.accesses) seen.insert(a.service + " " + a.kind + " " + a.table);
  CHECK(seen ==
        std::set<std::string>{"ship read ship.order_view", "unassigned read public.orders"});
  CHECK(s.stats.statements == 5);  // dbsplit's own session is not counted at all
}
