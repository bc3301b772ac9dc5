// The engine's two extensions for steps 4 and 6: actions that run on a
// service's own database (Action::database) and data movers (Action::mover).
// Both go through dry-run, rehearse, apply, a fault at every boundary (and
// inside the mover) with resume, and rollback to byte-identical schemas in
// both databases. The test step's "remote" and "mover" kinds exercise them.
#include "catch2/catch.hpp"
#include "support/scenario.h"

using namespace dbsplit::test;

namespace {

struct TwoDatabases {
  TestDb remote;
  Scenario s;
  TwoDatabases()
      : s("CREATE TABLE public.plain (id integer);", {"public.plain"},
          "[[service]]\nname = \"remote\"\ndatabase = \"dbname=" + remote.name() +
              "\"\n\n[step.selftest]\nkinds = [\"remote\", \"mover\"]\n") {}

  std::string dumps() { return s.db().schemaDump() + "\n----\n" + remote.schemaDump(); }
  nlohmann::json status() {
    for (const auto& ev : eventsOf(jsonLines(s.cli({"status", "--json"}).out), "step")) {
      if (ev["step"] == "selftest") return ev;
    }
    return {};
  }
};

}  // namespace

TEST_CASE("actions on a service's database and data movers apply and roll back exactly",
          "[engine][pg]") {
  TwoDatabases t;
  const std::string original = t.dumps();

  CliResult dry = t.s.cli({"run", "selftest", "--dry-run", "--json"});
  INFO(dry.out << dry.err);
  REQUIRE(dry.exit_code == 0);
  auto actions = eventsOf(jsonLines(dry.out), "action");
  REQUIRE(actions.size() == 3);
  CHECK(actions[0]["id"] == "selftest/remote/remote");
  CHECK(actions[0]["database"] == "remote");
  CHECK(actions[2]["mover"] == "selftest.fill");
  CHECK(t.dumps() == original);

  CliResult rehearse = t.s.cli({"run", "selftest", "--rehearse", "--json"});
  INFO(rehearse.out << rehearse.err);
  REQUIRE(rehearse.exit_code == 0);
  int skipped = 0;
  for (const auto& ev : eventsOf(jsonLines(rehearse.out), "rehearsal")) {
    if (ev.value("skipped", false)) ++skipped;
  }
  CHECK(skipped == 2);  // the remote action and the mover
  CHECK(t.dumps() == original);

  CliResult run = t.s.cli({"run", "selftest"});
  INFO(run.out << run.err);
  REQUIRE(run.exit_code == 0);
  CHECK(t.remote.scalar("SELECT count(*) FROM dbsplit.applied WHERE action_id = "
                        "'selftest/remote/remote'") == "1");
  CHECK(t.s.db().scalar("SELECT count(*) FROM public.dbsplit_selftest_filled") == "1000");
  CHECK(t.status()["status"] == "applied");
  CHECK(t.status().value("drift", nlohmann::json()).is_null());

  CliResult back = t.s.cli({"rollback", "selftest"});
  INFO(back.out << back.err);
  REQUIRE(back.exit_code == 0);
  CHECK(t.dumps() == original);
}

TEST_CASE("a fault at every boundary of remote and mover actions, then resume, ends the same",
          "[engine][pg][slow]") {
  TwoDatabases t;
  const std::string original = t.dumps();
  REQUIRE(t.s.cli({"run", "selftest"}).exit_code == 0);
  const std::string applied = t.dumps();
  REQUIRE(t.s.cli({"rollback", "selftest"}).exit_code == 0);

  std::vector<std::string> faults;
  for (const char* id : {"selftest/remote/remote", "selftest/filled", "selftest/fill"}) {
    faults.push_back(std::string(id) + ":before");
    faults.push_back(std::string(id) + ":after");
  }
  faults.push_back("selftest/fill#4:after");  // inside the mover, between batches
  for (const std::string& fault : faults) {
    INFO("fault " << fault);
    CliResult crash = t.s.cli({"run", "selftest"}, {{"DBSPLIT_FAULT", fault}});
    REQUIRE(crash.exit_code == 128 + 9);
    CHECK(t.status()["interrupted"] == true);

    CliResult resume = t.s.cli({"resume"});
    INFO(resume.out << resume.err);
    REQUIRE(resume.exit_code == 0);
    CHECK(t.dumps() == applied);
    CHECK(t.s.db().scalar("SELECT count(*) FROM public.dbsplit_selftest_filled") == "1000");

    // The same fault on the way back, then resume finishes the rollback.
    CliResult crash_back = t.s.cli({"rollback", "selftest"}, {{"DBSPLIT_FAULT", fault}});
    if (crash_back.exit_code == 128 + 9) {
      CliResult finish = t.s.cli({"resume"});
      INFO(finish.out << finish.err);
      REQUIRE(finish.exit_code == 0);
    } else {
      REQUIRE(crash_back.exit_code == 0);  // the fault point lies inside the mover only
    }
    CHECK(t.dumps() == original);
  }
}
