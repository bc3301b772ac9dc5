// The projections step through the lifecycle harness (support/lifecycle.h): dry-run changes
// nothing (not even the journal), rehearse changes nothing, apply backfills
// and starts the relay, rollback restores pg_dump exactly, and a fault at
// every action boundary followed by resume ends like a clean run.
#include "catch2/catch.hpp"
#include "support/lifecycle.h"
#include "support/projections_fixture.h"
#include "support/scenario.h"

using namespace dbsplit::test;

namespace {

// The lifecycle below, as the superuser or as a managed admin (support/pg_test.h).
void projectionsLifecycle(bool managed) {
  if (managed) useAdmin(Admin::kManaged);
  Lifecycle<ProjectionsScenario> c;
  c.step = "projections";
  c.rollback_asks = true;
  c.build = [] {
    auto s = std::make_unique<ProjectionsScenario>();
    s->advanceToProjections();
    return s;
  };
  // Ranges of 60 rows (200 rows: four ranges), so a kill mid-backfill is possible.
  c.env = {{"DBSPLIT_BACKFILL_CHUNK_ROWS", "60"}};
  c.actions = [](ProjectionsScenario&, const std::vector<std::string>& ids) {
    REQUIRE(ids.size() == 4);  // table, cursor, backfill, start
  };
  c.dry_run = [](ProjectionsScenario& s, const CliResult& dry) {
    CHECK(dry.out.find("CREATE TABLE \"" + s.ship() + "\".\"order_view\"") != std::string::npos);
    CHECK(dry.out.find("pg_export_snapshot") != std::string::npos);
  };
  c.apply = [](ProjectionsScenario& s, const CliResult&) {
    TestDb& db = s.db();
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
  };
  // Exact after the relay carried what was written meanwhile; the cursor
  // counts exactly the events the backfill's snapshot did not see.
  c.applied = [](ProjectionsScenario& s) {
    REQUIRE(s.cli({"relay", "--once"}).exit_code == 0);
    CHECK(s.differences() == 0);
    CHECK(s.cursorApplied() == s.eventsAfterBackfill());
  };
  c.before_rollback = [](ProjectionsScenario& s) {
    const std::string applied = s.db().schemaDump();
    CliResult unconfirmed = s.cli({"rollback", "projections"});
    CHECK(unconfirmed.exit_code == 5);
    CHECK(s.db().schemaDump() == applied);
  };
  // A write before every faulted run, for the relay to carry.
  c.before_fault = [](ProjectionsScenario& s) {
    s.db().exec("UPDATE public.orders SET total = total + 1 WHERE id = 7");
  };
  // After the second backfill range, and after the first relay poll.
  c.mover_faults = [](const std::vector<std::string>& ids) {
    std::vector<std::string> faults;
    for (const std::string& id : ids) {
      if (id.rfind("projections/backfill/", 0) == 0) faults.push_back(id + "#1:after");
      if (id.rfind("projections/start/", 0) == 0) faults.push_back(id + "#1:after");
    }
    return faults;
  };
  // Their SQL is the same for both admins: the fault loop runs as the superuser
  // (the suite's 15 minutes); ownership and revoke, whose SQL differs, run it as both.
  if (managed) c.faults = false;
  runLifecycle(c);
}

}  // namespace

TEST_CASE(
    "projections through dry-run, rehearse, apply (backfill, relay start), rollback and a "
    "fault at every action boundary and inside the movers",
    "[projections][pg][slow]") {
  projectionsLifecycle(false);
}

TEST_CASE(
    "projections as a managed admin (no superuser) through dry-run, rehearse, apply and rollback",
    "[projections][pg][slow][managed]") {
  projectionsLifecycle(true);
}

TEST_CASE(
    "projections with a view rebuilt in the consumer's own database through dry-run, rehearse, "
    "apply, rollback and a fault at every action boundary",
    "[projections][shared][pg][slow]") {
  Lifecycle<ProjectionsScenario> c;
  c.step = "projections";
  c.rollback_asks = true;
  const std::string name = "Order Summary \u00fc";  // a space, capitals, non-ASCII
  c.build = [name] {
    ProjectionsOptions options;
    options.consumer_database = true;
    options.extra_plan = "[[view]]\nname = 'public.\"" + name +
                         "\"'\ndecision = \"rebuild\"\nservice = \"@ship@\"\n"
                         "query = \"SELECT status, count(*) AS n FROM @ship@.order_view GROUP BY "
                         "status\"\n";
    auto s = std::make_unique<ProjectionsScenario>(options);
    s->advanceToProjections();
    return s;
  };
  // The projection and the view live in the consumer's database: its dump too.
  c.state = [](ProjectionsScenario& s) { return s.targetDump(); };
  c.actions = [name](ProjectionsScenario& s, const std::vector<std::string>& ids) {
    REQUIRE(ids.size() == 6);  // schema, table, cursor, backfill, start, view
    CHECK(ids.back() == "projections/view/" + s.ship() + "." + name);
  };
  c.apply = [name](ProjectionsScenario& s, const CliResult&) {
    const std::string view = "\"" + s.ship() + "\".\"" + name + "\"";
    CHECK(s.targetScalar("SELECT sum(n) FROM " + view) == "200");
    CHECK(s.targetScalar("SELECT relowner::regrole::text FROM pg_class WHERE oid = '" + view +
                         "'::regclass") == s.ship());
    CHECK(s.targetScalar("SELECT obj_description('" + view + "'::regclass, 'pg_class')")
              .find("rebuilt for consumer") != std::string::npos);
  };
  runLifecycle(c);
}

TEST_CASE("the backfill copies without the primary key and puts the same one back",
          "[projections][pg]") {
  ProjectionsOptions options;
  options.consumer_database = GENERATE(false, true);
  ProjectionsScenario s(options);
  s.advanceToProjections();
  const std::string original = s.db().schemaDump();
  std::string backfill;
  for (const std::string& id : actionIds(
           [&s](const std::vector<std::string>& args) { return s.cli(args); }, "projections")) {
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
