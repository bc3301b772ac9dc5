// The engine's lifecycle on its test step, through the real binary and the
// lifecycle harness (support/lifecycle.h): dry-run, rehearse, apply, status,
// rollback, a fault at every action boundary, with hostile identifiers.
#include <algorithm>
#include <fstream>

#include "catch2/catch.hpp"
#include "support/hostile.h"
#include "support/lifecycle.h"
#include "support/scenario.h"

using namespace dbsplit::test;

namespace {

nlohmann::json stepStatus(const Scenario& s, const std::string& step) {
  CliResult r = s.cli({"status", "--json"});
  for (const auto& ev : eventsOf(jsonLines(r.out), "step")) {
    if (ev["step"] == step) return ev;
  }
  FAIL("no status line for step " << step << "\n" << r.out << r.err);
  return {};
}

}  // namespace

TEST_CASE(
    "the test step through dry-run, rehearse, apply, rollback and a fault at every action "
    "boundary (also while rolling back), with hostile identifiers",
    "[engine][pg][slow]") {
  Lifecycle<Scenario> c;
  c.step = "selftest";
  c.build = [] { return std::make_unique<Scenario>(kHostileSchema, hostileTables()); };
  c.dry_run = [](Scenario& s, const CliResult& r) {
    CHECK(r.out.find("CREATE INDEX CONCURRENTLY") != std::string::npos);
    CHECK(r.out.find(R"("Sales Dept"."Order ""Items""")") != std::string::npos);
    CHECK(fileSha256(s.journalPath()).empty());  // not even created
  };
  // Each action's locks are reported.
  c.rehearse = [](Scenario& s, const CliResult& r) {
    bool saw_exclusive = false, saw_skip = false;
    for (const auto& ev : eventsOf(jsonLines(r.out), "rehearsal")) {
      if (ev.value("skipped", false)) {
        saw_skip = true;
        continue;
      }
      CHECK(ev.contains("rows"));
      CHECK(ev.contains("ms"));
      for (const auto& l : ev["locks"]) {
        if (l.get<std::string>().find("AccessExclusiveLock on public.plain") == 0)
          saw_exclusive = true;
      }
    }
    CHECK(saw_exclusive);
    CHECK(saw_skip);  // CREATE INDEX CONCURRENTLY cannot be rehearsed
    CHECK(fileSha256(s.journalPath()).empty());
  };
  c.apply = [](Scenario& s, const CliResult& run) {
    auto lines = jsonLines(run.out);
    REQUIRE(lines.back()["event"] == "result");
    CHECK(lines.back()["ok"] == true);
    CHECK(lines.back()["exit_code"] == 0);
    CHECK(lines.back()["next_steps"].is_array());
    CHECK(
        s.db().scalar("SELECT count(*) FROM dbsplit.applied WHERE action_id NOT LIKE 'chain:%'") ==
        std::to_string(eventsOf(lines, "action").size()));
    nlohmann::json st = stepStatus(s, "selftest");
    CHECK(st["actions_applied"] == st["actions_total"]);
  };
  c.applied = [](Scenario& s) {
    CHECK(s.db().scalar("SELECT count(*) FROM pg_attribute WHERE attname = 'dbsplit_selftest'"
                        " AND NOT attisdropped") == "5");  // 4 tables + the partition
    CHECK(s.db().scalar("SELECT obj_description('public.plain'::regclass)") ==
          "dbsplit selftest: owned by svc");
  };
  c.status_tells_committed = true;
  // The same fault while rolling back, then resume finishes the rollback.
  c.rollback_fault = [](Scenario&, const std::string&) { return true; };
  runLifecycle(c);
}

TEST_CASE("status calls a standalone step that never ran optional, not pending", "[engine][pg]") {
  Scenario s(kHostileSchema, hostileTables());
  REQUIRE(s.cli({"run", "catalogue"}).exit_code == 0);  // a journal to report on
  nlohmann::json st = stepStatus(s, "selftest");
  CHECK(st["status"] == "pending");
  CHECK(st["standalone"] == true);
  CHECK(stepStatus(s, "ownership").count("standalone") == 0);
  CliResult human = s.cli({"status"});
  CHECK(human.out.find("selftest     optional") != std::string::npos);
  CHECK(human.out.find("ownership    pending") != std::string::npos);

  REQUIRE(s.cli({"run", "selftest"}).exit_code == 0);
  CHECK(s.cli({"status"}).out.find("selftest     applied") != std::string::npos);
}

TEST_CASE("a journal belongs to the migration that wrote it first", "[engine][pg]") {
  Scenario s(kHostileSchema, hostileTables());
  REQUIRE(s.cli({"run", "catalogue"}).exit_code == 0);
  // A second migration pointed at the first one's journal.
  std::string plan = readFile(s.planPath());
  plan.replace(plan.find("name = \"t\""), 10, "name = \"other\"\njournal = \".dbsplit/t.db\"");
  const std::string other = s.dir().path() + "/other.toml";
  std::ofstream(other) << plan;
  std::vector<std::string> args = s.cliArgs({"status"});
  args[std::find(args.begin(), args.end(), "--plan") - args.begin() + 1] = other;
  CliResult r = runCli(args, s.cliEnv({}));
  INFO(r.out << r.err);
  CHECK(r.exit_code == 6);
  CHECK(r.err.find("belongs to migration \"t\", not \"other\"") != std::string::npos);
  CHECK(s.cli({"status"}).exit_code == 0);
}

TEST_CASE("applying an applied step changes nothing and says so", "[engine][pg]") {
  Scenario s("CREATE TABLE public.t (id int PRIMARY KEY);", {"public.t"});
  REQUIRE(s.cli({"run", "selftest"}).exit_code == 0);
  const std::string dump = s.db().schemaDump();
  CliResult again = s.cli({"run", "selftest"});
  CHECK(again.exit_code == 0);
  CHECK(again.out.find("already applied") != std::string::npos);
  CHECK(s.db().schemaDump() == dump);
}

TEST_CASE("plan shows forward SQL, inverse SQL, lock and status of every action", "[engine][pg]") {
  Scenario s("CREATE TABLE public.t (id int PRIMARY KEY);", {"public.t"});
  CliResult r = s.cli({"plan", "selftest", "--json"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  auto actions = eventsOf(jsonLines(r.out), "action");
  REQUIRE(actions.size() == 4);
  for (const auto& a : actions) {
    CHECK(a["status"] == "pending");
    CHECK(!a["forward"].get<std::string>().empty());
    CHECK(!a["inverse"].get<std::string>().empty());
    CHECK(!a["lock"].get<std::string>().empty());
  }
  REQUIRE(s.cli({"run", "selftest"}).exit_code == 0);
  for (const auto& a : eventsOf(jsonLines(s.cli({"plan", "--json"}).out), "action")) {
    if (a["step"] != "selftest") continue;  // playbook steps not run here stay pending
    CHECK(a["status"] == "applied");
  }
  CliResult log = s.cli({"log"});
  CHECK(log.exit_code == 0);
  CHECK(log.out.find("run selftest (apply)  exit 0") != std::string::npos);
}

TEST_CASE("a resumed CREATE INDEX CONCURRENTLY replaces the invalid index a failed attempt left",
          "[engine][security][pg]") {
  Scenario s("CREATE TABLE public.t (id int, v int);\nINSERT INTO public.t VALUES (1, 1), (1, 2);",
             {"public.t"}, "[step.selftest]\nkinds = [\"index\"]\n");
  CliResult killed =
      s.cli({"run", "selftest", "--yes"}, {{"DBSPLIT_FAULT", "selftest/index/public.t:before"}});
  REQUIRE(killed.exit_code == 137);
  // What a CREATE INDEX CONCURRENTLY that dies half-way leaves: an INVALID
  // index under the action's name (made here by a UNIQUE build over duplicates).
  const std::string idx =
      s.db().scalar("SELECT 'dbsplit_selftest_' || left(encode(sha256('public.t'), 'hex'), 12)");
  bool failed = false;
  try {
    s.db().exec("CREATE UNIQUE INDEX CONCURRENTLY " + idx + " ON public.t (id)");
  } catch (const std::exception&) {
    failed = true;
  }
  REQUIRE(failed);
  const std::string valid =
      "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = "
      "i.indexrelid WHERE c.relname = '" +
      idx + "'";
  REQUIRE(s.db().scalar(valid) == "f");

  CliResult resume = s.cli({"resume"});
  INFO(resume.out << resume.err);
  CHECK(resume.exit_code == 0);
  CHECK(s.db().scalar(valid) == "t");
  CHECK(s.db().scalar("SELECT indisunique FROM pg_index WHERE indexrelid = '" + idx +
                      "'::regclass") == "f");  // dbsplit's own definition, built again
}
