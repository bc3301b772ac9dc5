// DBSPLIT_FAULT at every action boundary of the ownership step: the process
// dies there, resume ends exactly where an uninterrupted run ends, and
// rollback from there gives back the original schema and ACLs.
#include "catch2/catch.hpp"
#include "support/ownership_fixture.h"
#include "support/scenario.h"

using namespace dbsplit::test;

TEST_CASE(
    "ownership: a fault at every action boundary, then resume, ends like an "
    "uninterrupted run",
    "[ownership][pg][slow]") {
  OwnershipScenario s;
  const std::string original = s.db().schemaDump();
  const std::string original_acls = s.aclState();
  s.runCatalogue();
  REQUIRE(s.cli({"run", "ownership"}).exit_code == 0);
  const std::string applied = s.db().schemaDump();
  const std::string applied_acls = s.aclState();
  REQUIRE(s.cli({"rollback", "ownership"}).exit_code == 0);
  REQUIRE(s.db().schemaDump() == original);

  std::vector<std::string> ids;
  for (const auto& a : eventsOf(jsonLines(s.cli({"plan", "ownership", "--json"}).out), "action")) {
    ids.push_back(a["id"]);
  }
  REQUIRE(ids.size() == 13);  // with the view public.order_totals
  for (const std::string& id : ids) {
    for (const std::string point : {"before", "after"}) {
      INFO("fault " << id << ":" << point);
      CliResult crash = s.cli({"run", "ownership"}, {{"DBSPLIT_FAULT", id + ":" + point}});
      REQUIRE(crash.exit_code == 128 + 9);
      CHECK(s.cli({"run", "ownership"}).exit_code == 3);  // resume or rollback first
      CliResult resume = s.cli({"resume"});
      INFO(resume.out << resume.err);
      REQUIRE(resume.exit_code == 0);
      CHECK(s.db().schemaDump() == applied);
      CHECK(s.aclState() == applied_acls);
      CliResult rb = s.cli({"rollback", "ownership"});
      INFO(rb.out << rb.err);
      REQUIRE(rb.exit_code == 0);
      CHECK(s.db().schemaDump() == original);
      CHECK(s.aclState() == original_acls);
    }
  }
}

TEST_CASE("ownership: a fault while rolling back, then resume, finishes the rollback exactly",
          "[ownership][pg][slow]") {
  OwnershipScenario s;
  const std::string original = s.db().schemaDump();
  s.runCatalogue();
  for (const std::string& id :
       std::vector<std::string>{"ownership/table/public.orders", "ownership/role/" + s.owner()}) {
    INFO("fault while undoing " << id);
    REQUIRE(s.cli({"run", "ownership"}).exit_code == 0);
    CliResult crash = s.cli({"rollback", "ownership"}, {{"DBSPLIT_FAULT", id + ":before"}});
    REQUIRE(crash.exit_code == 128 + 9);
    CliResult resume = s.cli({"resume"});
    INFO(resume.out << resume.err);
    REQUIRE(resume.exit_code == 0);
    CHECK(s.db().schemaDump() == original);
  }
}
