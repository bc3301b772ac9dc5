// Bad input for projections and the relay: each gets a clear message naming
// what is wrong, and nothing changes (or, for a bad event, nothing of its
// batch is applied, the relay exits 1 naming the event, and --skip-event is
// the recorded escape).
#include <set>

#include "catch2/catch.hpp"
#include "journal/journal.h"
#include "support/projections_fixture.h"
#include "support/scenario.h"

using namespace dbsplit::test;

namespace {

void rewritePlan(ProjectionsScenario& s, const std::string& from, const std::string& to) {
  std::string plan = readFile(s.dir().file("dbsplit.toml"));
  auto at = plan.find(from);
  REQUIRE(at != std::string::npos);
  plan.replace(at, from.size(), to);
  s.dir().write("dbsplit.toml", plan);
}

}  // namespace

TEST_CASE("a projection column missing in the source is named, nothing changes",
          "[projections][pg]") {
  ProjectionsScenario s;
  s.advanceToProjections();
  // Published by the event (all columns but secret) yet absent from the table:
  // the plan validator cannot know, the catalog does.
  rewritePlan(s, "\"placed\"]", "\"placd\"]");
  const std::string before = s.db().schemaDump();
  CliResult r = s.cli({"run", "projections"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("column \"placd\" does not exist in public.orders") != std::string::npos);
  CHECK(r.err.find("did you mean \"placed\"") != std::string::npos);
  CHECK(s.db().schemaDump() == before);
}

TEST_CASE("a key that is not unique in the source is refused", "[projections][pg]") {
  ProjectionsScenario s;
  s.advanceToProjections();
  rewritePlan(s, "key = [\"id\"]", "key = [\"customer\"]");
  const std::string before = s.db().schemaDump();
  CliResult r = s.cli({"run", "projections"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 3);
  CHECK(r.err.find("(customer) is not unique in public.orders") != std::string::npos);
  CHECK(s.db().schemaDump() == before);
}

TEST_CASE("a consumer database that does not exist is named", "[projections][pg]") {
  ProjectionsOptions o;
  o.consumer_dsn = sandboxDsn("dbsplit_no_such_database");
  ProjectionsScenario s(o);
  s.advanceToProjections();
  const std::string before = s.db().schemaDump();
  CliResult r = s.cli({"run", "projections"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 3);
  CHECK(r.err.find("database of consumer \"" + s.ship() + "\"") != std::string::npos);
  CHECK(r.err.find("dbsplit_no_such_database") != std::string::npos);
  CHECK(s.db().schemaDump() == before);
}

TEST_CASE("an event that does not fit the projection stops the relay before its batch",
          "[projections][relay][pg]") {
  ProjectionsScenario s;
  s.advanceToProjections();
  REQUIRE(s.cli({"run", "projections"}).exit_code == 0);
  const std::string outbox = "\"" + s.orders() + "\".outbox";
  // One transaction: a good change and two drifted events (a missing column,
  // a value of the wrong type).
  s.db().exec(
      "BEGIN;\nUPDATE public.orders SET status = 'good' WHERE id = 3;\n"
      "INSERT INTO " +
      outbox +
      " (aggregatetype, aggregateid, type, payload, source_table, op) VALUES"
      " ('order', '4', 'order.updated', '{\"id\": 4, \"customer\": \"x\"}',"
      "  'public.orders', 'u');\nCOMMIT;");
  const std::string missing =
      s.db().scalar("SELECT id FROM " + outbox + " WHERE payload->>'customer' = 'x'");
  CliResult r = s.cli({"relay", "--once"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("event " + missing) != std::string::npos);
  CHECK(r.err.find("no column \"status\"") != std::string::npos);
  CHECK(r.err.find("--skip-event " + missing) != std::string::npos);
  CHECK(s.targetScalar("SELECT status FROM " + s.projection() + " WHERE id = 3") == "new");
  CHECK(s.cursorApplied() == 0);

  s.db().exec("INSERT INTO " + outbox +
              " (aggregatetype, aggregateid, type, payload, source_table, op) VALUES"
              " ('order', '5', 'order.updated', '{\"id\": 5, \"customer\": \"y\", \"status\": "
              "\"s\", \"total\": \"lots\", \"placed\": null}', 'public.orders', 'u')");
  const std::string wrong_type =
      s.db().scalar("SELECT id FROM " + outbox + " WHERE payload->>'customer' = 'y'");
  CliResult skip1 = s.cli({"relay", "--once", "--batch", "1", "--skip-event", missing});
  INFO(skip1.out << skip1.err);
  CHECK(skip1.exit_code == 1);
  CHECK(skip1.err.find("event " + wrong_type) != std::string::npos);
  CHECK(skip1.err.find("lots") != std::string::npos);
  // The first batch (with the good change) went through once its bad event was skipped.
  CHECK(s.targetScalar("SELECT status FROM " + s.projection() + " WHERE id = 3") == "good");

  CliResult skip2 = s.cli({"relay", "--once", "--skip-event", wrong_type});
  INFO(skip2.out << skip2.err);
  CHECK(skip2.exit_code == 0);
  CHECK(s.differences() == 0);
  auto journal = dbsplit::journal::Journal::open(s.dir().file(".dbsplit/t.db"),
                                                 dbsplit::journal::Journal::Mode::kReadOnly);
  std::set<std::string> skipped;
  for (const auto& ev : journal->events(0, 0)) {
    if (ev.kind == "relay_skip") skipped.insert(nlohmann::json::parse(ev.json)["id"]);
  }
  CHECK(skipped == std::set<std::string>{missing, wrong_type});
}
