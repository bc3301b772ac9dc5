// What each step hashes (and keeps) of the plan to detect drift: never a
// password from a [[service]] database DSN.
#include "catch2/catch.hpp"
#include "plan/plan.h"
#include "steps/registry.h"

namespace {

const std::string kPlan = R"([migration]
name = "shop"

[[service]]
name = "orders"
roles = ["orders_app"]
database = "host=db2 dbname=orders user=app password=hunter2"

[[service]]
name = "fulfillment"
roles = ["fulfillment_app"]
database = "postgresql://ff:s3cret@db3/fulfillment"

[[table]]
name = "public.orders"
owner = "orders"

[[event]]
table = "public.orders"
aggregate_type = "order"

[[projection]]
consumer = "fulfillment"
source = "public.orders"
name = "order_view"
columns = ["id", "status"]
key = ["id"]
)";

}  // namespace

TEST_CASE("no step's drift inputs hold a password of a service database", "[steps][security]") {
  const dbsplit::plan::Plan plan = dbsplit::plan::parsePlan(kPlan, "/p/plan.toml");
  int steps = 0;
  for (const dbsplit::engine::Step* step : dbsplit::steps::registry()) {
    INFO(step->name());
    const std::string inputs = step->inputs(plan).dump();
    CHECK(inputs.find("hunter2") == std::string::npos);
    CHECK(inputs.find("s3cret") == std::string::npos);
    ++steps;
  }
  CHECK(steps >= 6);
}
