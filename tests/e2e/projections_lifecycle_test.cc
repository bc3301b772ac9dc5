// The projections step through the engine's lifecycle: dry-run changes
// nothing (not even the journal), rehearse changes nothing, apply backfills
// and starts the relay, rollback restores pg_dump exactly, and a fault at
// every action boundary followed by resume ends like a clean run.
#include "catch2/catch.hpp"
#include "support/projections_fixture.h"
#include "support/scenario.h"

using namespace dbsplit::test;

namespace {

std::vector<std::string> actionIds(const ProjectionsScenario& s) {
  std::vector<std::string> ids;
  CliResult r = s.cli({"plan", "projections", "--json"});
  for (const auto& a : eventsOf(jsonLines(r.out), "action")) ids.push_back(a["id"]);
  return ids;
}

}  // namespace

TEST_CASE("projections dry-run, rehearse, apply and rollback", "[projections][pg]") {
  ProjectionsScenario s;
  s.advanceToProjections();
  TestDb& db = s.db();
  const std::string before = db.schemaDump();
  const std::string journal = fileSha256(s.dir().file(".dbsplit/t.db"));

  CliResult dry = s.cli({"run", "projections", "--dry-run"});
  INFO(dry.out << dry.err);
  REQUIRE(dry.exit_code == 0);
  CHECK(dry.out.find("CREATE TABLE \"" + s.ship() + "\".\"order_view\"") != std::string::npos);
  CHECK(dry.out.find("pg_export_snapshot") != std::string::npos);
  CHECK(db.schemaDump() == before);
  CHECK(fileSha256(s.dir().file(".dbsplit/t.db")) == journal);

  CliResult rehearse = s.cli({"run", "projections", "--rehearse"});
  INFO(rehearse.out << rehearse.err);
  REQUIRE(rehearse.exit_code == 0);
  CHECK(db.schemaDump() == before);

  CliResult run = s.cli({"run", "projections", "--json"});
  INFO(run.out << run.err);
  REQUIRE(run.exit_code == 0);
  CHECK(s.differences() == 0);
  CHECK(s.projectionRows() == 200);
  // The projection has the source's types, the key, the consumer as owner.
  CHECK(db.scalar("SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = '" +
                  s.projection() + "'::regclass AND attname = 'total'") == "numeric(10,2)");
  CHECK(db.scalar("SELECT relowner::regrole::text FROM pg_class WHERE oid = '" + s.projection() +
                  "'::regclass") == s.ship());
  CHECK(db.scalar("SELECT count(*) FROM " + s.cursor()) == "1");
  // A relay_start snapshot is journaled.
  CHECK(s.cli({"status"}).out.find("relay " + s.ship()) != std::string::npos);

  const std::string applied = db.schemaDump();
  CliResult unconfirmed = s.cli({"rollback", "projections"});
  CHECK(unconfirmed.exit_code == 5);
  CHECK(db.schemaDump() == applied);
  CliResult rb = s.cli({"rollback", "projections", "--yes"});
  INFO(rb.out << rb.err);
  REQUIRE(rb.exit_code == 0);
  CHECK(db.schemaDump() == before);
  REQUIRE(s.cli({"run", "projections"}).exit_code == 0);
  CHECK(s.differences() == 0);
  REQUIRE(s.cli({"rollback", "projections", "--yes"}).exit_code == 0);
  CHECK(db.schemaDump() == before);
}

TEST_CASE("a fault at every projections action boundary, then resume, ends like a clean run",
          "[projections][pg][slow]") {
  ProjectionsScenario s;
  s.advanceToProjections();
  const std::string original = s.db().schemaDump();
  const std::vector<std::string> ids = actionIds(s);
  REQUIRE(ids.size() == 4);  // table, cursor, backfill, start
  REQUIRE(s.cli({"run", "projections"}).exit_code == 0);
  const std::string applied = s.db().schemaDump();
  REQUIRE(s.cli({"rollback", "projections", "--yes"}).exit_code == 0);
  REQUIRE(s.db().schemaDump() == original);

  // Every action boundary, plus points inside the movers: after the second
  // backfill range (ranges of 60 rows) and after the first relay poll.
  std::vector<std::string> faults;
  for (const std::string& id : ids) {
    faults.push_back(id + ":before");
    faults.push_back(id + ":after");
    if (id.rfind("projections/backfill/", 0) == 0) faults.push_back(id + "#1:after");
    if (id.rfind("projections/start/", 0) == 0) faults.push_back(id + "#1:after");
  }
  const std::map<std::string, std::string> small = {{"DBSPLIT_BACKFILL_CHUNK_ROWS", "60"}};
  for (const std::string& fault : faults) {
    {
      INFO("fault " << fault);
      s.db().exec("UPDATE public.orders SET total = total + 1 WHERE id = 7");
      std::map<std::string, std::string> env = small;
      env["DBSPLIT_FAULT"] = fault;
      CliResult crash = s.cli({"run", "projections"}, env);
      REQUIRE(crash.exit_code == 128 + 9);
      CHECK(s.stepStatus("projections")["status"] == "applying");
      CliResult resume = s.cli({"resume"}, small);
      INFO(resume.out << resume.err);
      REQUIRE(resume.exit_code == 0);
      CHECK(s.db().schemaDump() == applied);
      CHECK(s.stepStatus("projections")["status"] == "applied");
      REQUIRE(s.cli({"relay", "--once"}).exit_code == 0);
      CHECK(s.differences() == 0);
      CHECK(s.cursorApplied() == s.eventsAfterBackfill());
      REQUIRE(s.cli({"rollback", "projections", "--yes"}).exit_code == 0);
      CHECK(s.db().schemaDump() == original);
    }
  }
}

TEST_CASE("the backfill copies without the primary key and puts the same one back",
          "[projections][pg]") {
  ProjectionsOptions options;
  options.consumer_database = GENERATE(false, true);
  ProjectionsScenario s(options);
  s.advanceToProjections();
  const std::string original = s.db().schemaDump();
  std::string backfill;
  for (const std::string& id : actionIds(s)) {
    if (id.rfind("projections/backfill/", 0) == 0) backfill = id;
  }
  REQUIRE(!backfill.empty());
  const std::string keys = "SELECT count(*) FROM pg_constraint WHERE conrelid = '" +
                           s.projection() + "'::regclass AND contype = 'p'";
  const std::map<std::string, std::string> small = {{"DBSPLIT_BACKFILL_CHUNK_ROWS", "60"}};
  std::map<std::string, std::string> env = small;
  env["DBSPLIT_FAULT"] = backfill + "#1:after";

  // Killed after its second range: rows copied, no key yet.
  REQUIRE(s.cli({"run", "projections"}, env).exit_code == 128 + 9);
  CHECK(s.targetScalar("SELECT count(*) FROM " + s.projection()) == "120");
  CHECK(s.targetScalar(keys) == "0");
  // Rolled back from there: the inverse puts the key back before the table goes.
  CliResult rb = s.cli({"rollback", "projections", "--yes"});
  INFO(rb.out << rb.err);
  REQUIRE(rb.exit_code == 0);
  CHECK(s.db().schemaDump() == original);

  // Resumed from there: the last range adds the key, named as the step names it.
  REQUIRE(s.cli({"run", "projections"}, env).exit_code == 128 + 9);
  REQUIRE(s.cli({"resume"}, small).exit_code == 0);
  CHECK(s.targetScalar(keys) == "1");
  CHECK(s.targetScalar("SELECT conname FROM pg_constraint WHERE conrelid = '" + s.projection() +
                       "'::regclass AND contype = 'p'") == "order_view_pkey");
  REQUIRE(s.cli({"relay", "--once"}).exit_code == 0);
  CHECK(s.differences() == 0);
}

TEST_CASE("a plan without projections applies projections with zero actions", "[projections][pg]") {
  ProjectionsScenario s;
  // Same database, but the plan keeps only the owner's side.
  std::string plan = readFile(s.dir().file("dbsplit.toml"));
  plan = plan.substr(0, plan.find("[[projection]]"));
  s.dir().write("dbsplit.toml", plan);
  s.advanceToProjections();
  CliResult run = s.cli({"run", "projections", "--json"});
  INFO(run.out << run.err);
  REQUIRE(run.exit_code == 0);
  CHECK(s.stepStatus("projections")["status"] == "applied");
  CHECK(s.stepStatus("projections")["actions_total"] == 0);
}
