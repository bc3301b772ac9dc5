// dbsplit compare on bad input: a clear message, exit 3 (or 2 for bad flags),
// nothing changed in PostgreSQL, and only the journal's record of the failed
// compare written.
#include "catch2/catch.hpp"
#include "support/compare_fixture.h"
#include "support/scenario.h"

using namespace dbsplit::test;

namespace {

const char* kSource = R"SQL(
CREATE TABLE public.items (id bigint PRIMARY KEY, sku text NOT NULL, qty int);
INSERT INTO public.items SELECT g, 'sku-' || g, g % 10 FROM generate_series(1, 500) g;
CREATE TABLE public.codes (code text, label text);
INSERT INTO public.codes VALUES ('a', 'A'), (NULL, 'nothing'), ('b', 'B');
CREATE TABLE public.docs (doc json, n int);
INSERT INTO public.docs VALUES ('{"a": 1}', 1);
)SQL";

const char* kProjection = R"SQL(
CREATE SCHEMA fulfillment;
CREATE TABLE fulfillment.item_view (id bigint PRIMARY KEY, sku text, qty int);
INSERT INTO fulfillment.item_view SELECT g, 'sku-' || g, g % 10 FROM generate_series(1, 500) g;
)SQL";

std::string planFor(const std::string& projection) {
  return R"TOML(
[[table]]
name = "public.items"
owner = "orders"

[[table]]
name = "public.codes"
owner = "orders"

[[table]]
name = "public.docs"
owner = "orders"

[[event]]
table = "public.items"
aggregate_type = "item"

[[event]]
table = "public.codes"
aggregate_type = "code"
aggregate_id = ["code"]

[[event]]
table = "public.docs"
aggregate_type = "doc"
aggregate_id = ["n"]

)TOML" + projection;
}

const char* kItemView = R"TOML(
[[projection]]
consumer = "fulfillment"
source = "public.items"
name = "item_view"
columns = ["id", "sku", "qty"]
key = ["id"]
)TOML";

// Runs compare expecting `code` and `message`, then checks that only a failed
// record was written and nothing changed in either database.
void expectFailed(CompareScenario& s, int code, const std::string& message,
                  const std::string& kind) {
  const std::string before = s.db().schemaDump();
  CliResult r = s.compare();
  INFO(r.out << r.err);
  CHECK(r.exit_code == code);
  CHECK(r.err.find(message) != std::string::npos);
  CHECK(s.db().schemaDump() == before);
  auto records = s.records();
  REQUIRE(records.size() == 1);
  CHECK(records[0]["clean"] == false);
  CHECK(records[0]["error"]["kind"] == kind);
  CHECK(records[0]["differences"].empty());
}

}  // namespace

TEST_CASE("compare before the projection exists asks for the projections step", "[compare][pg]") {
  CompareScenario s(kSource, "", planFor(kItemView));
  expectFailed(s, 3, "fulfillment.item_view (of public.items) does not exist",
               "projection_missing");
  CliResult r = s.compare();
  CHECK(r.err.find("dbsplit run projections") != std::string::npos);
}

TEST_CASE("a projection whose columns changed since the step ran is refused", "[compare][pg]") {
  SECTION("a column dropped") {
    CompareScenario s(
        kSource, std::string(kProjection) + "ALTER TABLE fulfillment.item_view DROP COLUMN qty;",
        planFor(kItemView));
    expectFailed(s, 3, "no longer has the plan's columns", "projection_columns_changed");
  }
  SECTION("a column added") {
    CompareScenario s(
        kSource,
        std::string(kProjection) + "ALTER TABLE fulfillment.item_view ADD COLUMN price numeric;",
        planFor(kItemView));
    expectFailed(s, 3, "column \"price\" is not in the plan's columns",
                 "projection_columns_changed");
  }
}

TEST_CASE("a table with no usable key is refused", "[compare][pg]") {
  SECTION("NULL in the key") {
    CompareScenario s(kSource,
                      "CREATE SCHEMA fulfillment;"
                      "CREATE TABLE fulfillment.code_view (code text PRIMARY KEY, label text);",
                      planFor(R"TOML(
[[projection]]
consumer = "fulfillment"
source = "public.codes"
name = "code_view"
columns = ["code", "label"]
key = ["code"]
)TOML"));
    expectFailed(s, 3, "source table public.codes has no usable key: 1 row(s) hold NULL",
                 "no_usable_key");
  }
  SECTION("a key type without an order") {
    CompareScenario s(kSource,
                      "CREATE SCHEMA fulfillment;"
                      "CREATE TABLE fulfillment.doc_view (doc json, n int);",
                      planFor(R"TOML(
[[projection]]
consumer = "fulfillment"
source = "public.docs"
name = "doc_view"
columns = ["doc", "n"]
key = ["doc"]
)TOML"));
    expectFailed(s, 3, "has no usable key: its key (doc) cannot be ordered", "no_usable_key");
  }
}

TEST_CASE("an unreachable consumer database fails clearly", "[compare][pg]") {
  CompareScenario s(kSource, "", planFor(kItemView));
  std::string plan = readFile(s.planPath());
  const std::string service = "name = \"fulfillment\"\n";
  plan.replace(plan.find(service), service.size(),
               service + "database = \"host=/nonexistent/dbsplit port=1 dbname=nowhere\"\n");
  s.dir().write("dbsplit.toml", plan);
  expectFailed(s, 3, "cannot connect to host=/nonexistent/dbsplit", "connection_failed");
}

TEST_CASE("compare flags that name nothing are usage errors and write nothing", "[compare][pg]") {
  CompareScenario s(kSource, kProjection, planFor(kItemView));
  CliResult r = s.compare({"--consumer", "fulfilment"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("did you mean --consumer fulfillment?") != std::string::npos);
  r = s.compare({"--table", "item_veiw"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("did you mean --table item_view?") != std::string::npos);
  r = s.compare({"--bisection-factor", "1"});
  CHECK(r.exit_code == 2);
  CHECK(s.records().empty());
}

TEST_CASE("a compare limited by --table is never a clean record for the gate", "[compare][pg]") {
  CompareScenario s(
      kSource,
      std::string(kProjection) + "CREATE TABLE fulfillment.code_view (code text, label text);",
      planFor(std::string(kItemView) + R"TOML(
[[projection]]
consumer = "fulfillment"
source = "public.codes"
name = "code_view"
columns = ["code", "label"]
key = ["code"]
)TOML"));
  CliResult r = s.compare({"--table", "item_view"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("clean for the tables compared") != std::string::npos);
  auto rec = s.records().back();
  CHECK(rec["partial"] == true);
  CHECK(rec["clean"] == false);
  CHECK(rec["tables"].size() == 1);
}

TEST_CASE("each consumer gets its own compare record, --consumer compares only one",
          "[compare][pg]") {
  CompareScenario s(kSource,
                    std::string(kProjection) +
                        "CREATE SCHEMA billing;"
                        "CREATE TABLE billing.items AS SELECT id, qty FROM public.items;"
                        "ALTER TABLE billing.items ADD PRIMARY KEY (id);"
                        "UPDATE billing.items SET qty = 99 WHERE id = 250;",
                    planFor(std::string(kItemView) + R"TOML(
[[service]]
name = "billing"

[[projection]]
consumer = "billing"
source = "public.items"
name = "items"
columns = ["id", "qty"]
key = ["id"]
)TOML"));
  CliResult r = s.compare({"--json"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 3);
  auto diffs = differencesIn(r);
  REQUIRE(diffs.size() == 1);
  CHECK(diffs[0]["consumer"] == "billing");
  CHECK(diffs[0]["projection"] == "billing.items");
  CHECK(diffs[0]["key"] == nlohmann::json{{"id", 250}});
  auto records = s.records();
  REQUIRE(records.size() == 2);
  CHECK(records[0]["consumer"] == "fulfillment");
  CHECK(records[0]["clean"] == true);
  CHECK(records[1]["consumer"] == "billing");
  CHECK(records[1]["clean"] == false);

  CliResult one = s.compare({"--consumer", "fulfillment"});
  CHECK(one.exit_code == 0);
  records = s.records();
  REQUIRE(records.size() == 3);
  CHECK(records[2]["consumer"] == "fulfillment");
  CHECK(records[2]["clean"] == true);
}
