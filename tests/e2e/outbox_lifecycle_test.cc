// The outbox step through the lifecycle harness (support/lifecycle.h), with
// hostile identifiers in table and column names: dry-run changes nothing (not
// even the journal), rehearse changes nothing, apply then rollback restores
// pg_dump exactly, and a fault at every action boundary followed by resume ends
// like a clean run.
#include "catch2/catch.hpp"
#include "support/lifecycle.h"
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

// The lifecycle below, as the superuser or as a managed admin (support/pg_test.h).
void outboxLifecycle(bool managed) {
  if (managed) useAdmin(Admin::kManaged);
  Lifecycle<OutboxScenario> c;
  c.step = "outbox";
  c.rollback_asks = true;
  c.status_tells_committed = true;  // transactional actions in one database
  c.build = [] {
    auto s = std::make_unique<OutboxScenario>(std::vector<std::string>{"orders"}, kHostile,
                                              kHostilePlan);
    s->advanceToOutbox();
    REQUIRE(!fileSha256(s->journalPath()).empty());
    return s;
  };
  c.actions = [](OutboxScenario&, const std::vector<std::string>& ids) {
    REQUIRE(ids.size() == 10);  // outbox table + 3 events x (function, trigger, truncate)
  };
  c.dry_run = [](OutboxScenario&, const CliResult& dry) {
    CHECK(dry.out.find(R"(ON "Sales Dept"."Order ""Items""")") != std::string::npos);
    CHECK(dry.out.find("$dbsplit_1$") != std::string::npos);  // "$dbsplit$" is a column name
  };
  c.rehearse = [](OutboxScenario&, const CliResult& rehearse) {
    bool saw_trigger_lock = false;
    for (const auto& ev : eventsOf(jsonLines(rehearse.out), "rehearsal")) {
      for (const auto& l : ev["locks"]) {
        saw_trigger_lock = saw_trigger_lock ||
                           l.get<std::string>().find("ShareRowExclusiveLock") != std::string::npos;
      }
    }
    CHECK(saw_trigger_lock);
  };
  // Once: the rows written here stay in the source tables.
  c.apply = [](OutboxScenario& s, const CliResult&) {
    TestDb& db = s.db();
    db.exec(R"(INSERT INTO "Sales Dept"."Order ""Items""" VALUES (1, 2, 3, 'd', 'q', 'hidden');
               INSERT INTO public."Tëst ünïcode" VALUES (9, 'w');
               INSERT INTO public.events_2026 VALUES (4, '2026-05-05');)");
    // Partitions at every level refuse a TRUNCATE of their own (the row
    // trigger is cloned to them, the statement trigger is not).
    for (const char* partition :
         {R"("Sales Dept"."Évents ""27""")", R"("Sales Dept"."Évents 27 low")"}) {
      INFO(partition);
      CHECK_THROWS_WITH(db.exec(std::string("TRUNCATE ") + partition),
                        Catch::Contains("is refused"));
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
  };
  // Rolling back drops unread events: without a terminal it needs --yes.
  c.before_rollback = [](OutboxScenario& s) {
    const std::string applied = s.db().schemaDump();
    CliResult unconfirmed = s.cli({"rollback", "outbox"});
    CHECK(unconfirmed.exit_code == 5);
    CHECK(unconfirmed.err.find("every event in them that no consumer has read") !=
          std::string::npos);
    CHECK(s.db().schemaDump() == applied);
    CHECK(s.events("orders").size() == 3);
  };
  // Their SQL is the same for both admins: the fault loop runs as the superuser
  // (the suite's 15 minutes); ownership and revoke, whose SQL differs, run it as both.
  if (managed) c.faults = false;
  runLifecycle(c);
}

}  // namespace

TEST_CASE(
    "outbox through dry-run, rehearse, apply, rollback and a fault at every action boundary, "
    "with hostile identifiers",
    "[outbox][pg][slow]") {
  outboxLifecycle(false);
}

TEST_CASE("outbox as a managed admin (no superuser) through dry-run, rehearse, apply and rollback",
          "[outbox][pg][slow][managed]") {
  outboxLifecycle(true);
}
