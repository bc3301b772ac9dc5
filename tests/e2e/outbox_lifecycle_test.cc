// The outbox step through the engine's lifecycle, with hostile identifiers in
// table and column names: dry-run changes nothing (not even the journal),
// rehearse changes nothing, apply then rollback restores pg_dump exactly, and
// a fault at every action boundary followed by resume ends like a clean run.
#include "catch2/catch.hpp"
#include "support/outbox_fixture.h"
#include "support/scenario.h"

using namespace dbsplit::test;

namespace {

// Quotes, spaces, mixed case, non-ASCII, a dollar-quote tag and a comment
// marker in identifiers; a composite key; a partitioned table.
const char* kHostile = R"SQL(
CREATE SCHEMA "Sales Dept";
CREATE TABLE "Sales Dept"."Order ""Items""" (
  "Order Id" int, "línea" int, "Qty" int, "$dbsplit$" text, "it's -- x" text, "Sëcret" text,
  PRIMARY KEY ("Order Id", "línea"));
CREATE TABLE public."Tëst ünïcode" ("ключ" int PRIMARY KEY, "Wert" text);
CREATE TABLE public.events (id int NOT NULL, at date NOT NULL, PRIMARY KEY (id, at))
  PARTITION BY RANGE (at);
CREATE TABLE public.events_2026 PARTITION OF public.events
  FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE TABLE "Sales Dept"."Évents ""27""" PARTITION OF public.events
  FOR VALUES FROM ('2027-01-01') TO ('2028-01-01') PARTITION BY RANGE (id);
CREATE TABLE "Sales Dept"."Évents 27 low" PARTITION OF "Sales Dept"."Évents ""27"""
  FOR VALUES FROM (0) TO (1000);
COMMENT ON TABLE public.events IS 'kept: it''s the "original" comment';
)SQL";

const char* kHostilePlan = R"TOML(
[[table]]
name = '"Sales Dept"."Order ""Items"""'
owner = "@orders@"

[[table]]
name = 'public."Tëst ünïcode"'
owner = "@orders@"

[[table]]
name = "public.events"
owner = "@orders@"

[[event]]
table = '"Sales Dept"."Order ""Items"""'
aggregate_type = "order item"
exclude = ["Sëcret"]

[[event]]
table = 'public."Tëst ünïcode"'
aggregate_type = "tëst's"

[[event]]
table = "public.events"
aggregate_type = "event"
)TOML";

std::vector<std::string> actionIds(const OutboxScenario& s) {
  std::vector<std::string> ids;
  CliResult r = s.cli({"plan", "outbox", "--json"});
  for (const auto& a : eventsOf(jsonLines(r.out), "action")) ids.push_back(a["id"]);
  return ids;
}

}  // namespace

TEST_CASE("outbox dry-run, rehearse, apply and rollback with hostile identifiers", "[outbox][pg]") {
  OutboxScenario s({"orders"}, kHostile, kHostilePlan);
  s.advanceToOutbox();
  TestDb& db = s.db();
  const std::string before = db.schemaDump();
  const std::string journal = fileSha256(s.dir().file(".dbsplit/t.db"));
  REQUIRE(!journal.empty());

  CliResult dry = s.cli({"run", "outbox", "--dry-run"});
  INFO(dry.out << dry.err);
  REQUIRE(dry.exit_code == 0);
  CHECK(dry.out.find(R"(ON "Sales Dept"."Order ""Items""")") != std::string::npos);
  CHECK(dry.out.find("$dbsplit_1$") != std::string::npos);  // "$dbsplit$" is a column name
  CHECK(db.schemaDump() == before);
  CHECK(fileSha256(s.dir().file(".dbsplit/t.db")) == journal);

  CliResult rehearse = s.cli({"run", "outbox", "--rehearse", "--json"});
  INFO(rehearse.out << rehearse.err);
  REQUIRE(rehearse.exit_code == 0);
  bool saw_trigger_lock = false;
  for (const auto& ev : eventsOf(jsonLines(rehearse.out), "rehearsal")) {
    for (const auto& l : ev["locks"]) {
      saw_trigger_lock = saw_trigger_lock ||
                         l.get<std::string>().find("ShareRowExclusiveLock") != std::string::npos;
    }
  }
  CHECK(saw_trigger_lock);
  CHECK(db.schemaDump() == before);

  CliResult run = s.cli({"run", "outbox"});
  INFO(run.out << run.err);
  REQUIRE(run.exit_code == 0);
  CHECK(db.schemaDump() != before);
  db.exec(R"(INSERT INTO "Sales Dept"."Order ""Items""" VALUES (1, 2, 3, 'd', 'q', 'hidden');
             INSERT INTO public."Tëst ünïcode" VALUES (9, 'w');
             INSERT INTO public.events_2026 VALUES (4, '2026-05-05');)");
  // Partitions at every level refuse a TRUNCATE of their own (the row
  // trigger is cloned to them, the statement trigger is not).
  for (const char* partition :
       {R"("Sales Dept"."Évents ""27""")", R"("Sales Dept"."Évents 27 low")"}) {
    INFO(partition);
    CHECK_THROWS_WITH(db.exec(std::string("TRUNCATE ") + partition), Catch::Contains("is refused"));
  }
  auto events = s.events("orders");
  REQUIRE(events.size() == 3);
  CHECK(events[0].type == "order item.created");
  CHECK(events[0].aggregateid == "[1, 2]");
  CHECK(events[0].payload == nlohmann::json::parse(
                                 R"({"Order Id":1,"línea":2,"Qty":3,"$dbsplit$":"d",
                                     "it's -- x":"q"})"));
  CHECK(events[1].type == "tëst's.created");
  CHECK(events[1].payload == nlohmann::json::parse(R"({"ключ":9,"Wert":"w"})"));
  CHECK(events[1].source_table == "public.Tëst ünïcode");
  CHECK(events[2].source_table == "public.events");  // written into a partition directly

  // A dry-run of an applied step plans nothing new and fails nothing.
  CliResult again = s.cli({"run", "outbox", "--dry-run"});
  CHECK(again.exit_code == 0);

  // Rolling back drops unread events: without a terminal it needs --yes.
  const std::string applied = db.schemaDump();
  CliResult unconfirmed = s.cli({"rollback", "outbox"});
  CHECK(unconfirmed.exit_code == 5);
  CHECK(unconfirmed.err.find("every event in them that no consumer has read") != std::string::npos);
  CHECK(db.schemaDump() == applied);
  CHECK(s.events("orders").size() == 3);

  CliResult rb = s.cli({"rollback", "outbox", "--yes"});
  INFO(rb.out << rb.err);
  REQUIRE(rb.exit_code == 0);
  CHECK(db.schemaDump() == before);
  REQUIRE(s.cli({"run", "outbox"}).exit_code == 0);
  REQUIRE(s.cli({"rollback", "outbox", "--yes"}).exit_code == 0);
  CHECK(db.schemaDump() == before);
}

TEST_CASE("a fault at every outbox action boundary, then resume, ends like a clean run",
          "[outbox][pg][slow]") {
  OutboxScenario s({"orders"}, kHostile, kHostilePlan);
  s.advanceToOutbox();
  const std::string original = s.db().schemaDump();
  const std::vector<std::string> ids = actionIds(s);
  REQUIRE(ids.size() == 10);  // outbox table + 3 events x (function, trigger, truncate)
  REQUIRE(s.cli({"run", "outbox"}).exit_code == 0);
  const std::string applied = s.db().schemaDump();
  REQUIRE(s.cli({"rollback", "outbox", "--yes"}).exit_code == 0);
  REQUIRE(s.db().schemaDump() == original);

  for (const std::string& id : ids) {
    for (const std::string point : {"before", "after"}) {
      INFO("fault " << id << ":" << point);
      CliResult crash = s.cli({"run", "outbox"}, {{"DBSPLIT_FAULT", id + ":" + point}});
      REQUIRE(crash.exit_code == 128 + 9);
      CHECK(s.stepStatus("outbox")["status"] == "applying");
      CliResult resume = s.cli({"resume"});
      INFO(resume.out << resume.err);
      REQUIRE(resume.exit_code == 0);
      CHECK(s.db().schemaDump() == applied);
      CHECK(s.stepStatus("outbox")["status"] == "applied");
      REQUIRE(s.cli({"rollback", "outbox", "--yes"}).exit_code == 0);
      CHECK(s.db().schemaDump() == original);
    }
  }
}
