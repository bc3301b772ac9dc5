// dbsplit compare on tables of several shapes: identical data in different
// forms compares clean; each kind of single difference is found, with its key.
#include "catch2/catch.hpp"
#include "support/compare_fixture.h"
#include "support/scenario.h"

using namespace dbsplit::test;

namespace {

// Orders: a composite text+integer key, NULLs, numeric, timestamptz, json,
// text with quotes, '' and non-ASCII. Rows are generated, so both databases of
// a cross-database test can hold the same data.
const char* kOrdersColumns = "region, id, total, placed_at, attrs, note, flag";

std::string ordersRows(int n, const std::string& json_type) {
  return R"SQL(
SELECT (ARRAY['north', 'south', 'é"ast''s', 'west 西'])[1 + g % 4],
       g,
       CASE WHEN g % 7 = 0 THEN NULL ELSE g * 1.25 END,
       CASE WHEN g % 11 = 0 THEN NULL
            ELSE timestamptz '2024-03-01 12:00:00+00' + g * interval '37 minutes 0.25 seconds' END,
       CASE WHEN g % 13 = 0 THEN NULL
            ELSE format('{"q": "say \"hi\" %s", "n": %s, "tags": ["a", %s]}', g, g, g % 3)::)SQL" +
         json_type + R"SQL( END,
       CASE WHEN g % 5 = 0 THEN NULL WHEN g % 5 = 1 THEN '' ELSE 'it''s "quoted" ü ' || g END,
       g % 2 = 0
  FROM generate_series(1, )SQL" +
         std::to_string(n) + ") g";
}

// The source: numeric(12,2), json text as written, timestamptz.
std::string sourceSql(int n) {
  return R"SQL(
CREATE TABLE public.orders (
  region text NOT NULL,
  id int NOT NULL,
  total numeric(12,2),
  placed_at timestamptz,
  attrs json,
  note text,
  flag boolean,
  secret text DEFAULT 'not projected',
  PRIMARY KEY (region, id));
INSERT INTO public.orders ()SQL" +
         std::string(kOrdersColumns) + ")" + ordersRows(n, "json") + R"SQL(;
CREATE TABLE public.items (id bigint PRIMARY KEY, sku text NOT NULL, qty int, price numeric(10,3));
INSERT INTO public.items
SELECT g, 'sku-' || g, CASE WHEN g % 9 = 0 THEN NULL ELSE g % 100 END, g / 8.0
  FROM generate_series(1, )SQL" +
         std::to_string(n) + ") g;\n";
}

// The projections: other types of the same values (bigint key, numeric with
// another scale, jsonb), written from a session in another time zone.
std::string projectionSql(int n) {
  return R"SQL(
SET TimeZone = 'Asia/Tokyo';
CREATE SCHEMA fulfillment;
CREATE TABLE fulfillment.order_view (
  region text, id bigint, total numeric(14,4), placed_at timestamptz, attrs jsonb, note text,
  flag boolean, PRIMARY KEY (region, id));
INSERT INTO fulfillment.order_view ()SQL" +
         std::string(kOrdersColumns) + ")" + ordersRows(n, "jsonb") + R"SQL(;
CREATE TABLE fulfillment.item_view (id int8 PRIMARY KEY, sku varchar(40), qty bigint, price numeric);
INSERT INTO fulfillment.item_view
SELECT g, 'sku-' || g, CASE WHEN g % 9 = 0 THEN NULL ELSE g % 100 END, round(g / 8.0, 6)
  FROM generate_series(1, )SQL" +
         std::to_string(n) + ") g;\nRESET TimeZone;\n";
}

const char* kPlan = R"TOML(
[[table]]
name = "public.orders"
owner = "orders"

[[table]]
name = "public.items"
owner = "orders"

[[event]]
table = "public.orders"
aggregate_type = "order"

[[event]]
table = "public.items"
aggregate_type = "item"

[[projection]]
consumer = "fulfillment"
source = "public.orders"
name = "order_view"
columns = ["region", "id", "total", "placed_at", "attrs", "note", "flag"]
key = ["region", "id"]

[[projection]]
consumer = "fulfillment"
source = "public.items"
name = "item_view"
columns = ["id", "sku", "qty", "price"]
key = ["id"]
)TOML";

constexpr int kRows = 3000;
// Small chunks, so a few thousand rows go through several levels of bisection.
const std::vector<std::string> kSmallChunks = {"--bisection-threshold", "40", "--bisection-factor",
                                               "4"};
// Chunks of one row, split two ways: below the first level's 1024 chunks, every
// differing chunk goes through levels of bisection down to single rows.
const std::vector<std::string> kDeepChunks = {"--bisection-threshold", "1", "--bisection-factor",
                                              "2"};

std::vector<std::string> withJson(std::vector<std::string> args) {
  args.push_back("--json");
  return args;
}

nlohmann::json tableOf(const nlohmann::json& record, const std::string& projection) {
  for (const auto& t : record["tables"]) {
    if (t["projection"] == projection) return t;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("identical tables of several shapes compare clean", "[compare][pg]") {
  CompareScenario s(sourceSql(kRows), projectionSql(kRows), kPlan);
  const std::string before = s.db().schemaDump();
  for (const auto& args : {std::vector<std::string>{}, kSmallChunks}) {
    CliResult r = s.compare(withJson(args));
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(differencesIn(r).empty());
    auto tables = eventsOf(jsonLines(r.out), "compare_table");
    REQUIRE(tables.size() == 2);
    for (const auto& t : tables) {
      CHECK(t["source_rows"] == kRows);
      CHECK(t["projection_rows"] == kRows);
    }
  }
  auto records = s.records();
  REQUIRE(records.size() == 2);
  const auto& rec = records.back();
  CHECK(rec["consumer"] == "fulfillment");
  CHECK(rec["clean"] == true);
  CHECK(rec["differences"].empty());
  CHECK(rec["relay_snapshot"].get<std::string>().find(':') != std::string::npos);
  CHECK(rec["started_at"].get<std::string>() <= rec["finished_at"].get<std::string>());
  CHECK(tableOf(rec, "fulfillment.order_view")["source"] == "public.orders");
  CHECK(tableOf(rec, "fulfillment.item_view")["projection_rows"] == kRows);
  CHECK(s.db().schemaDump() == before);  // compare only reads
}

TEST_CASE("a single difference is found with the right kind and key", "[compare][pg]") {
  struct Case {
    const char* name;
    const char* sql;  // run in the consumer's database
    const char* projection;
    const char* kind;
    nlohmann::json key;
  };
  const std::vector<Case> cases = {
      {"changed numeric value",
       "UPDATE fulfillment.order_view SET total = total + 0.01 "
       "WHERE region = 'south' AND id = 1005",
       "fulfillment.order_view",
       "different",
       {{"region", "south"}, {"id", 1005}}},
      {"changed timestamp by one microsecond",
       "UPDATE fulfillment.order_view SET placed_at = placed_at + interval '1 microsecond' "
       "WHERE region = 'é\"ast''s' AND id = 2",
       "fulfillment.order_view",
       "different",
       {{"region", "é\"ast's"}, {"id", 2}}},
      {"changed json value",
       "UPDATE fulfillment.order_view SET attrs = attrs || '{\"n\": 0}' "
       "WHERE region = 'west 西' AND id = 3",
       "fulfillment.order_view",
       "different",
       {{"region", "west 西"}, {"id", 3}}},
      {"missing row",
       "DELETE FROM fulfillment.order_view WHERE region = 'north' AND id = 2400",
       "fulfillment.order_view",
       "missing",
       {{"region", "north"}, {"id", 2400}}},
      {"extra row",
       "INSERT INTO fulfillment.order_view (region, id, note) VALUES ('south', 5001, 'x')",
       "fulfillment.order_view",
       "extra",
       {{"region", "south"}, {"id", 5001}}},
      {"extra row whose key does not fit the source's key type",
       "INSERT INTO fulfillment.order_view (region, id) VALUES ('north', 5000000000)",
       "fulfillment.order_view",
       "extra",
       {{"region", "north"}, {"id", 5000000000LL}}},
      {"NULL versus empty string",
       "UPDATE fulfillment.order_view SET note = '' WHERE region = 'north' AND id = 20",
       "fulfillment.order_view",
       "different",
       {{"region", "north"}, {"id", 20}}},
      {"empty string versus NULL",
       "UPDATE fulfillment.order_view SET note = NULL WHERE region = 'south' AND id = 1",
       "fulfillment.order_view",
       "different",
       {{"region", "south"}, {"id", 1}}},
      {"changed value under an integer key",
       "UPDATE fulfillment.item_view SET qty = NULL "
       "WHERE id = 1234",
       "fulfillment.item_view",
       "different",
       {{"id", 1234}}},
      {"missing row under an integer key",
       "DELETE FROM fulfillment.item_view WHERE id = 1",
       "fulfillment.item_view",
       "missing",
       {{"id", 1}}},
      {"extra row under an integer key",
       "INSERT INTO fulfillment.item_view VALUES (-7, 'sku--7', 1, 1)",
       "fulfillment.item_view",
       "extra",
       {{"id", -7}}},
  };
  for (const Case& c : cases) {
    DYNAMIC_SECTION(c.name) {
      CompareScenario s(sourceSql(kRows), projectionSql(kRows), kPlan);
      s.consumerDb().exec(c.sql);
      for (const auto& args : {std::vector<std::string>{}, kSmallChunks, kDeepChunks}) {
        CliResult r = s.compare(withJson(args));
        INFO(r.out << r.err);
        REQUIRE(r.exit_code == 3);
        auto diffs = differencesIn(r);
        REQUIRE(diffs.size() == 1);
        CHECK(diffs[0]["kind"] == c.kind);
        CHECK(diffs[0]["projection"] == c.projection);
        CHECK(diffs[0]["key"] == c.key);
      }
      auto rec = s.records().back();
      CHECK(rec["clean"] == false);
      REQUIRE(rec["differences"].size() == 1);
      CHECK(rec["differences"][0]["kind"] == c.kind);
      CHECK(rec["differences"][0]["key"] == c.key);
      CHECK(tableOf(rec, c.projection)[c.kind] == 1);
      // No relay has run: the differences are reported as found, and it says so.
      REQUIRE(rec.contains("notes"));
      CHECK(rec["notes"][0].get<std::string>().find("the relay has not run") != std::string::npos);
    }
  }
}

TEST_CASE("one differing row under an integer key costs two scans and one row fetch per side",
          "[compare][pg]") {
  CompareScenario s(sourceSql(kRows), projectionSql(kRows), kPlan);
  s.consumerDb().exec("UPDATE fulfillment.item_view SET qty = -1 WHERE id = 2222");
  CliResult r = s.compare(withJson(kSmallChunks));
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 3);
  auto diffs = differencesIn(r);
  REQUIRE(diffs.size() == 1);
  CHECK(diffs[0]["key"] == nlohmann::json{{"id", 2222}});
  nlohmann::json items;
  for (const auto& t : eventsOf(jsonLines(r.out), "compare_table")) {
    if (t["projection"] == "fulfillment.item_view") items = t;
  }
  REQUIRE(items.is_object());
  CHECK(items["source_rows"] == kRows);
  CHECK(items["projection_rows"] == kRows);
  // Per side: the key check, the whole-table sum, min/max of the key, the
  // bucketed scan, the rows of the differing chunk and the re-check of the
  // suspect key. Chunk by chunk (a query per chunk hash, four levels of
  // four-way splits) it took about 40.
  CHECK(items["queries"].get<int>() <= 12);
}

TEST_CASE("differences are printed for people, the first --show of them", "[compare][pg]") {
  CompareScenario s(sourceSql(200), projectionSql(200), kPlan);
  s.db().exec("UPDATE public.items SET qty = -1 WHERE id <= 30");
  CliResult r = s.compare({"--show", "5"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 3);
  CHECK(r.out.find("different fulfillment.item_view {\"id\":1}") != std::string::npos);
  CHECK(r.out.find("{\"id\":6}") == std::string::npos);
  CHECK(r.out.find("and 25 more") != std::string::npos);
  CHECK(r.out.find("30 different") != std::string::npos);
  CliResult j = s.compare({"--json"});
  CHECK(differencesIn(j).size() == 30);
}

TEST_CASE("cross-database compare: the projection in the consumer's own database",
          "[compare][pg]") {
  CompareScenario s(sourceSql(kRows), projectionSql(kRows), kPlan, /*consumer_db=*/true);
  CliResult clean = s.compare(withJson(kSmallChunks));
  INFO(clean.out << clean.err);
  REQUIRE(clean.exit_code == 0);
  s.consumerDb().exec("UPDATE fulfillment.item_view SET sku = 'sku-x' WHERE id = 777");
  s.db().exec("DELETE FROM public.orders WHERE region = 'west 西' AND id = 2999");
  CliResult r = s.compare({"--json"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 3);
  auto diffs = differencesIn(r);
  REQUIRE(diffs.size() == 2);
  CHECK(diffs[0]["kind"] == "extra");
  CHECK(diffs[0]["key"] == nlohmann::json{{"region", "west 西"}, {"id", 2999}});
  CHECK(diffs[1]["kind"] == "different");
  CHECK(diffs[1]["key"] == nlohmann::json{{"id", 777}});
  auto rec = s.records().back();
  CHECK(rec["clean"] == false);
  CHECK(tableOf(rec, "fulfillment.order_view")["source_rows"] == kRows - 1);
  CHECK(tableOf(rec, "fulfillment.order_view")["projection_rows"] == kRows);
}
