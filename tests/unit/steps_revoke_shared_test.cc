// Shared views and functions, without a database: which objects the catalogue
// calls shared, what the revoke step's shared_objects gate asks of the plan
// for each, and which rebuild queries step 4 refuses.
#include "catalogue/shared.h"
#include "catch2/catch.hpp"
#include "plan/plan.h"
#include "steps/projections/rebuilt_views.h"
#include "steps/revoke/gates.h"
#include "steps/revoke/shared_gate.h"
#include "steps/revoke/sql.h"

using namespace dbsplit;
using namespace dbsplit::steps::revoke;

namespace {

const std::string kPlan = R"([migration]
name = "t"
[[service]]
name = "staff"
roles = ["staff_app"]
[[service]]
name = "customers"
roles = ["customers_app"]
[[service]]
name = "stores"
roles = ["stores_app"]
[[table]]
name = "public.staff"
owner = "staff"
[[table]]
name = "public.customer"
owner = "customers"
[[event]]
table = "public.staff"
aggregate_type = "staff"
[[projection]]
consumer = "stores"
source = "public.staff"
name = "staff"
columns = ["staff_id", "name"]
key = ["staff_id"]
)";

plan::Plan planWith(const std::string& extra) {
  return plan::parsePlan(kPlan + extra, "plan.toml");
}

catalogue::Access access(const std::string& service, const std::string& table,
                         const std::string& via) {
  catalogue::Access a;
  a.service = service;
  a.table = table;
  a.kind = "read";
  a.calls = 3;
  a.via = via;
  return a;
}

const std::map<std::string, std::string> kOwners = {{"public.staff", "staff"},
                                                    {"public.customer", "customers"}};

SharedItem staffList() { return {"view", "public.staff_list", {"customers", "staff"}, {"stores"}}; }

}  // namespace

TEST_CASE("the shared surface is every view or function spanning services or read across",
          "[revoke][shared]") {
  catalogue::Snapshot s;
  // stores reads two services' tables through a view.
  s.accesses.push_back(access("stores", "public.staff", "view public.staff_list"));
  s.accesses.push_back(access("stores", "public.customer", "view public.staff_list"));
  // staff reads its own table through its own view: not shared.
  s.accesses.push_back(access("staff", "public.staff", "view public.staff_names"));
  // stores reads staff's table through a function: shared, one service spanned.
  s.accesses.push_back(access("stores", "public.staff", "function public.staff_count(integer)"));
  // A direct read is not a view's or a function's.
  s.accesses.push_back(access("stores", "public.staff", ""));
  auto shared = catalogue::sharedSurface(s, kOwners);
  REQUIRE(shared.size() == 2);
  CHECK(shared[0].kind == "function");
  CHECK(shared[0].name == "public.staff_count");
  CHECK(shared[0].spans == std::set<std::string>{"staff"});
  CHECK(shared[0].crossing == std::set<std::string>{"stores"});
  CHECK(shared[1].kind == "view");
  CHECK(shared[1].name == "public.staff_list");
  CHECK(shared[1].spans == std::set<std::string>{"customers", "staff"});
  CHECK(shared[1].calls == 6);
  CHECK(catalogue::parseVia("materialized view x") == std::make_pair(std::string(), std::string()));
}

TEST_CASE("the shared_objects gate blocks on an undecided view and says how to decide it",
          "[revoke][shared]") {
  engine::Gate g = sharedObjectsGate(planWith(""), {staffList()}, {});
  CHECK_FALSE(g.passed);
  CHECK_THAT(g.evidence, Catch::Contains("view public.staff_list (spans customers, staff), read "
                                         "across by stores: no decision"));
  CHECK_THAT(g.evidence, Catch::Contains("[[view]] name = \"public.staff_list\", decision = "
                                         "\"rebuild\" (service = \"stores\""));
  CHECK(sharedObjectsGate(planWith(""), {}, {}).passed);
}

TEST_CASE("a rebuild opens the gate only once step 4 made the copy for every reader",
          "[revoke][shared]") {
  plan::Plan p = planWith(
      "[[view]]\nname = \"public.staff_list\"\ndecision = \"rebuild\"\nservice = \"stores\"\n"
      "query = \"SELECT staff_id FROM stores.staff\"\n");
  engine::Gate missing = sharedObjectsGate(p, {staffList()}, {});
  CHECK_FALSE(missing.passed);
  CHECK_THAT(missing.evidence, Catch::Contains("its rebuild for stores (stores.staff_list"));
  CHECK_THAT(missing.evidence, Catch::Contains("dbsplit run projections"));
  SharedFacts made;
  made.rebuilt = {"stores.staff_list"};
  engine::Gate ready = sharedObjectsGate(p, {staffList()}, made);
  CHECK(ready.passed);
  CHECK_THAT(ready.evidence, Catch::Contains("rebuilt for stores"));
  // A second reader without its own copy blocks.
  SharedItem two = staffList();
  two.readers.insert("customers");
  engine::Gate other = sharedObjectsGate(p, {two}, made);
  CHECK_FALSE(other.passed);
  CHECK_THAT(other.evidence, Catch::Contains("customers reads it and has no rebuilt copy"));
}

TEST_CASE("revoke and keep decide, and a kept function must be SECURITY DEFINER",
          "[revoke][shared]") {
  SharedItem fn{"function", "public.staff_count", {"staff"}, {"stores"}};
  CHECK(sharedObjectsGate(
            planWith("[[function]]\nname = \"public.staff_count\"\ndecision = \"revoke\"\n"), {fn},
            {})
            .passed);
  plan::Plan keep = planWith(
      "[[function]]\nname = \"public.staff_count\"\ndecision = \"keep\"\nreason = \"reports\"\n");
  engine::Gate invoker = sharedObjectsGate(keep, {fn}, {});
  CHECK_FALSE(invoker.passed);
  CHECK_THAT(invoker.evidence, Catch::Contains("SECURITY INVOKER"));
  SharedFacts definer;
  definer.definers = {"public.staff_count"};
  CHECK(sharedObjectsGate(keep, {fn}, definer).passed);
  CHECK(sharedObjectsGate(planWith("[[view]]\nname = \"public.staff_list\"\ndecision = "
                                   "\"keep\"\nreason = \"the nightly report\"\n"),
                          {staffList()}, {})
            .passed);
}

TEST_CASE("a kept view is left out of the revocations", "[revoke][shared]") {
  plan::Plan p = planWith(
      "[[view]]\nname = \"public.staff_list\"\ndecision = \"keep\"\nreason = \"reports\"\n");
  Relation view;
  view.state.schema = "public";
  view.state.name = "staff_list";
  view.what = "view";
  CHECK(keptView(p, view));
  view.state.name = "other";
  CHECK_FALSE(keptView(p, view));
  Relation table;
  table.state.schema = "public";
  table.state.name = "staff_list";
  table.what = "table";
  CHECK_FALSE(keptView(p, table));
}

TEST_CASE("step 4 refuses a rebuild query that is not one SELECT over the consumer's schema",
          "[revoke][shared]") {
  auto problems = [](const std::string& query) {
    return steps::projections::rebuiltViewProblems(
        planWith("[[view]]\nname = \"public.staff_list\"\ndecision = \"rebuild\"\nservice = "
                 "\"stores\"\nquery = \"\"\"" +
                 query + "\"\"\"\n"));
  };
  CHECK(problems("SELECT staff_id FROM stores.staff;\n").empty());
  CHECK(problems("WITH s AS (SELECT * FROM stores.staff) SELECT staff_id FROM s").empty());
  auto owner = problems("SELECT * FROM stores.staff JOIN public.customer ON true");
  REQUIRE(owner.size() == 1);
  CHECK_THAT(owner[0], Catch::StartsWith("plan.toml:"));
  CHECK_THAT(owner[0], Catch::Contains("reads public.customer"));
  CHECK_THAT(problems("SELECT * FROM staff")[0], Catch::Contains("reads staff (no schema)"));
  CHECK_THAT(problems("SELECT 1; DROP TABLE stores.staff")[0],
             Catch::Contains("must be exactly one SELECT"));
  CHECK_THAT(problems("SELEC 1")[0], Catch::Contains("does not parse"));
}

TEST_CASE("reads through a kept view or function are no cross-service reads for the gates",
          "[revoke][shared]") {
  catalogue::Snapshot s;
  s.accesses.push_back(access("stores", "public.staff", "view public.staff_list"));
  s.accesses.push_back(access("stores", "public.staff", "function public.staff_count(integer)"));
  s.accesses.push_back(access("stores", "public.staff", ""));
  plan::Plan none = planWith("");
  CHECK(crossAccesses(s, kOwners, &none).size() == 3);
  plan::Plan kept = planWith(
      "[[view]]\nname = \"public.staff_list\"\ndecision = \"keep\"\nreason = \"reports\"\n"
      "[[function]]\nname = \"public.staff_count\"\ndecision = \"keep\"\nreason = \"reports\"\n");
  auto left = crossAccesses(s, kOwners, &kept);
  REQUIRE(left.size() == 1);
  CHECK(left[0].via.empty());  // the direct read still counts
}
