// DBSPLIT_FAULT at every action boundary (DESIGN §5.7): the process dies,
// status tells the truth, resume ends where an uninterrupted run ends, and
// rollback from there restores the original schema exactly.
#include "catch2/catch.hpp"
#include "support/hostile.h"
#include "support/scenario.h"

using namespace dbsplit::test;

namespace {

nlohmann::json statusOf(const Scenario& s) {
  CliResult r = s.cli({"status", "--json"});
  INFO(r.out << r.err);
  for (const auto& ev : eventsOf(jsonLines(r.out), "step")) {
    if (ev["step"] == "selftest") return ev;
  }
  return {};
}

}  // namespace

TEST_CASE("a fault at every action boundary, then resume, ends like an uninterrupted run",
          "[engine][pg][slow]") {
  Scenario s(kHostileSchema, {R"("Sales Dept"."Order ""Items""")", "public.plain"});
  const std::string original = s.db().schemaDump();
  REQUIRE(s.cli({"run", "selftest"}).exit_code == 0);
  const std::string applied = s.db().schemaDump();
  REQUIRE(s.cli({"rollback", "selftest"}).exit_code == 0);
  REQUIRE(s.db().schemaDump() == original);

  std::vector<std::string> ids;
  for (const auto& a : eventsOf(jsonLines(s.cli({"plan", "selftest", "--json"}).out), "action")) {
    ids.push_back(a["id"]);
  }
  REQUIRE(ids.size() == 7);

  for (const std::string& id : ids) {
    for (const std::string point : {"before", "after"}) {
      INFO("fault " << id << ":" << point);
      CliResult crash = s.cli({"run", "selftest"}, {{"DBSPLIT_FAULT", id + ":" + point}});
      REQUIRE(crash.exit_code == 128 + 9);

      nlohmann::json st = statusOf(s);
      CHECK(st["status"] == "applying");
      CHECK(st["interrupted"] == true);
      CHECK(st["interrupted_action"] == id);
      CHECK(st["committed"] == (point == "after"));

      CliResult again = s.cli({"run", "selftest"});
      CHECK(again.exit_code == 3);  // refuses: resume or rollback first

      CliResult resume = s.cli({"resume"});
      INFO(resume.out << resume.err);
      REQUIRE(resume.exit_code == 0);
      CHECK(s.db().schemaDump() == applied);
      CHECK(statusOf(s)["status"] == "applied");

      REQUIRE(s.cli({"rollback", "selftest"}).exit_code == 0);
      CHECK(s.db().schemaDump() == original);
    }
  }
}

TEST_CASE("a fault during rollback, then resume, finishes the rollback exactly",
          "[engine][pg][slow]") {
  Scenario s(kHostileSchema, {"public.plain", R"(public."Tëst ünïcode")"});
  const std::string original = s.db().schemaDump();
  std::vector<std::string> ids;
  for (const auto& a : eventsOf(jsonLines(s.cli({"plan", "selftest", "--json"}).out), "action")) {
    ids.push_back(a["id"]);
  }
  for (const std::string& id : ids) {
    for (const std::string point : {"before", "after"}) {
      INFO("fault while undoing " << id << ":" << point);
      REQUIRE(s.cli({"run", "selftest"}).exit_code == 0);
      CliResult crash = s.cli({"rollback", "selftest"}, {{"DBSPLIT_FAULT", id + ":" + point}});
      REQUIRE(crash.exit_code == 128 + 9);
      nlohmann::json st = statusOf(s);
      CHECK(st["status"] == "failed");
      CHECK(st["operation"] == "rollback");
      CHECK(st["interrupted_action"] == id);
      CliResult resume = s.cli({"resume"});
      INFO(resume.out << resume.err);
      REQUIRE(resume.exit_code == 0);
      CHECK(statusOf(s)["status"] == "rolled_back");
      CHECK(s.db().schemaDump() == original);
    }
  }
}
