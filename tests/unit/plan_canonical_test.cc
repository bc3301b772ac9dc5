// The plan hash is what drift detection compares (DESIGN §3): the same plan
// written differently hashes the same, a real change hashes differently, and
// the canonical form never carries a connection string's password.
#include <string>

#include "catch2/catch.hpp"
#include "plan/plan.h"
#include "util/hash.h"

using dbsplit::plan::parsePlan;
using dbsplit::plan::Plan;

namespace {

const std::string kPlan = R"([migration]
name = "shop"
database = "postgresql://admin:s3cret@db.example/shop"

[[service]]
name = "orders"
roles = ["orders_app", "orders_batch"]
database = "host=db2 dbname=orders password=hunter2"

[[service]]
name = "fulfillment"
roles = ["fulfillment_app"]

[[table]]
name = "public.orders"
owner = "orders"

[[table]]
name = '"Sales"."Order Items"'
owner = "orders"

[[event]]
table = "public.orders"
aggregate_type = "order"
aggregate_id = "id"
columns = ["id", "status", "total"]
exclude = ["card_number", "cvv"]

[[projection]]
consumer = "fulfillment"
source = "public.orders"
name = "order_view"
columns = ["id", "status"]
key = ["id"]

[[waiver]]
service = "fulfillment"
table = "public.orders"
reason = "status write-back"
)";

// The same plan: other entry, key and role order, other quoting and case of
// unquoted names, comments, inline tables, defaults written out, and another
// database, journal and password.
const std::string kSamePlanRewritten = R"(
# reordered and reformatted
[[waiver]]
reason = "status write-back"
table = "PUBLIC.ORDERS"
service = "fulfillment"

[[table]]
owner = "orders"
name = "\"Sales\".\"Order Items\""

[[table]]
owner = "orders"   # the owner writes
name = 'public."orders"'

[[service]]
roles = ["fulfillment_app"]
name = "fulfillment"

[[service]]
database = "host=db2 dbname=orders password=other-secret"
roles = ["orders_batch", "orders_app"]
name = "orders"

[[projection]]
key = ["id"]
columns = ["id", "status"]
name = "order_view"
source = "Public.Orders"
consumer = "fulfillment"

[[event]]
operations = ["delete", "insert", "update"]
truncate = "refuse"
exclude = ["cvv", "card_number"]
columns = ["id", "status", "total"]
aggregate_id = ["id"]
aggregate_type = "order"
table = "public.orders"

[migration]
journal = "/elsewhere/j.db"
database = "postgresql://other:pw@replica/shop"
name = "shop"

[step.revoke]
deprecation_window = "168h"
require_compare = true
mode = "enforce"

[step.split]
mode = "schema"
allow_unqualified = false

[step.selftest]
kinds = ["schema", "comment", "column", "index"]
)";

std::string hashOf(const std::string& text) { return parsePlan(text, "/p/plan.toml").hash(); }

// kPlan with the first `from` replaced by `to`.
std::string changed(const std::string& from, const std::string& to) {
  std::string text = kPlan;
  size_t at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

}  // namespace

TEST_CASE("the same plan written differently has the same canonical form and hash", "[plan]") {
  Plan a = parsePlan(kPlan, "/p/plan.toml");
  Plan b = parsePlan(kSamePlanRewritten, "/elsewhere/other.toml");
  CHECK(a.canonical() == b.canonical());
  CHECK(a.hash() == b.hash());
}

TEST_CASE("the hash is the sha256 of the canonical form's dump", "[plan]") {
  Plan plan = parsePlan(kPlan, "/p/plan.toml");
  CHECK(plan.hash() == dbsplit::util::sha256Hex(plan.canonical().dump()));
  CHECK(plan.hash().size() == 64);
  CHECK(plan.hash() == parsePlan(kPlan, "/p/plan.toml").hash());
}

TEST_CASE("a real change to the plan changes the hash", "[plan]") {
  const std::string base = hashOf(kPlan);
  SECTION("migration name") { CHECK(hashOf(changed("\"shop\"", "\"shop2\"")) != base); }
  SECTION("table owner") {
    CHECK(hashOf(changed("Items\"'\nowner = \"orders\"", "Items\"'\nowner = \"fulfillment\"")) !=
          base);
  }
  SECTION("quoted name case") {
    CHECK(hashOf(changed("'\"Sales\".\"Order Items\"'", "'\"sales\".\"Order Items\"'")) != base);
  }
  SECTION("a role") { CHECK(hashOf(changed("\"orders_batch\"", "\"orders_etl\"")) != base); }
  SECTION("projection column order") {
    CHECK(hashOf(changed("columns = [\"id\", \"status\"]", "columns = [\"status\", \"id\"]")) !=
          base);
  }
  SECTION("event columns") {
    CHECK(hashOf(changed("\"status\", \"total\"]", "\"status\"]")) != base);
  }
  SECTION("operations") {
    CHECK(hashOf(changed("aggregate_id = \"id\"",
                         "aggregate_id = \"id\"\noperations = "
                         "[\"insert\"]")) != base);
  }
  SECTION("truncate") {
    CHECK(hashOf(changed("aggregate_id = \"id\"",
                         "aggregate_id = \"id\"\ntruncate = "
                         "\"publish\"")) != base);
  }
  SECTION("service target database") {
    CHECK(hashOf(changed("dbname=orders", "dbname=orders2")) != base);
  }
  SECTION("a step setting") {
    CHECK(hashOf(kPlan + "[step.revoke]\ndeprecation_window = \"8d\"\n") != base);
    CHECK(hashOf(kPlan + "[step.split]\nmode = \"schema\"\nallow_unqualified = true\n") != base);
  }
  SECTION("a waiver removed") {
    std::string text = kPlan.substr(0, kPlan.find("[[waiver]]"));
    CHECK(hashOf(text) != base);
  }
}

TEST_CASE("the canonical form holds no database, journal path or password", "[plan]") {
  Plan plan = parsePlan(kPlan, "/p/plan.toml");
  std::string dump = plan.canonical().dump();
  CHECK(dump.find("s3cret") == std::string::npos);
  CHECK(dump.find("hunter2") == std::string::npos);
  CHECK(dump.find("db.example") == std::string::npos);
  CHECK(dump.find(plan.migration.journal) == std::string::npos);
  CHECK(dump.find("plan.toml") == std::string::npos);
  CHECK_FALSE(plan.canonical()["migration"].contains("database"));
  CHECK_FALSE(plan.canonical()["migration"].contains("journal"));
}

TEST_CASE("the canonical form names relations quoted and keeps column order", "[plan]") {
  nlohmann::json c = parsePlan(kPlan, "/p/plan.toml").canonical();
  REQUIRE(c["tables"].size() == 2);
  CHECK(c["tables"][0]["name"] == "\"Sales\".\"Order Items\"");
  CHECK(c["tables"][1]["name"] == "\"public\".\"orders\"");
  CHECK(c["projections"][0]["columns"] == nlohmann::json({"id", "status"}));
  CHECK(c["events"][0]["operations"] == nlohmann::json({"insert", "update", "delete"}));
  CHECK(c["steps"]["revoke"]["deprecation_window_ms"] == 7 * 24 * 3600 * 1000LL);
}

TEST_CASE("a plan built in code has a canonical form too", "[plan]") {
  Plan plan;
  plan.migration.name = "built";
  plan.revoke.deprecation_window = "not a duration";
  CHECK(plan.canonical()["steps"]["revoke"]["deprecation_window_ms"] == "not a duration");
  CHECK(plan.hash().size() == 64);
}
