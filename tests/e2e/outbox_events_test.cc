// The outbox step's triggers on a real PostgreSQL: every kind of row change
// yields exactly the expected events in the writer's own transaction, the
// excluded column never leaks, TRUNCATE is refused (or published), and the
// writer needs no privilege on the outbox.
#include <memory>

#include "catch2/catch.hpp"
#include "support/outbox_fixture.h"
#include "support/scenario.h"

using namespace dbsplit::test;

namespace {

const char* kShop = R"SQL(
CREATE TABLE public.orders (
  id int PRIMARY KEY, customer_id int, status text, total numeric(10,2), card_number text,
  meta json);
CREATE TABLE public.events (id int NOT NULL, at date NOT NULL, note text,
  PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
CREATE TABLE public.events_2025 PARTITION OF public.events
  FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE public.events_2026 PARTITION OF public.events
  FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
)SQL";

const char* kShopPlan = R"TOML(
[[table]]
name = "public.orders"
owner = "@orders@"

[[table]]
name = "public.events"
owner = "@orders@"

[[event]]
table = "public.orders"
aggregate_type = "order"
exclude = ["card_number"]

[[event]]
table = "public.events"
aggregate_type = "happening"
columns = ["note", "at"]
truncate = "publish"
)TOML";

struct Expected {
  std::string type;
  std::string aggregateid;
  std::string op;
};

void checkEvents(const std::vector<OutboxEvent>& got, const std::vector<Expected>& want) {
  std::string listing;
  for (const auto& e : got) listing += e.type + " " + e.aggregateid + " " + e.payload.dump() + "\n";
  INFO(listing);
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    CHECK(got[i].type == want[i].type);
    CHECK(got[i].aggregateid == want[i].aggregateid);
    CHECK(got[i].op == want[i].op);
  }
}

std::unique_ptr<OutboxScenario> applied() {
  auto s = std::make_unique<OutboxScenario>(std::vector<std::string>{"orders"}, kShop, kShopPlan);
  s->advanceToOutbox();
  CliResult r = s->cli({"run", "outbox", "--yes"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  return s;
}

}  // namespace

TEST_CASE("every kind of row change yields exactly the expected events", "[outbox][pg]") {
  auto owned = applied();
  OutboxScenario& s = *owned;
  TestDb& db = s.db();
  db.exec("INSERT INTO public.orders VALUES (1, 10, 'new', 9.99, '4111-SECRET', '{\"a\": 1}')");
  db.exec("UPDATE public.orders SET status = 'paid' WHERE id = 1");
  db.exec("UPDATE public.orders SET card_number = '5555-SECRET' WHERE id = 1");  // excluded only
  db.exec("UPDATE public.orders SET status = status, meta = '{\"a\": 1}' WHERE id = 1");  // no-op
  db.exec("UPDATE public.orders SET meta = '{\"a\":  2}' WHERE id = 1");  // json: text compare
  db.exec(
      "INSERT INTO public.orders VALUES (1, 10, 'dup', 1, 'X-SECRET') "
      "ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status");
  db.exec(
      "INSERT INTO public.orders VALUES (1, 10, 'ignored', 1, 'X-SECRET') "
      "ON CONFLICT DO NOTHING");
  db.exec(
      "COPY public.orders (id, customer_id, status, total, card_number) FROM PROGRAM "
      "'printf \"2\\t20\\tnew\\t5\\tC-SECRET\\n3\\t30\\tnew\\t6\\tD-SECRET\\n\"'");
  db.exec(
      "WITH shipped AS (UPDATE public.orders SET status = 'shipped' WHERE id IN (2, 3) "
      "RETURNING id) INSERT INTO public.orders (id, status, card_number) "
      "SELECT id + 100, 'copy', 'E-SECRET' FROM shipped");
  db.exec("DELETE FROM public.orders WHERE id = 1");
  db.exec("INSERT INTO public.events VALUES (7, '2025-06-01', 'a')");
  db.exec("UPDATE public.events SET note = 'b' WHERE id = 7");
  db.exec("UPDATE public.events SET at = '2026-02-01' WHERE id = 7");  // moves partition
  CHECK(db.scalar("SELECT count(*) FROM public.events_2026") == "1");

  checkEvents(s.events("orders"), {{"order.created", "1", "c"},
                                   {"order.updated", "1", "u"},
                                   {"order.updated", "1", "u"},
                                   {"order.updated", "1", "u"},
                                   {"order.created", "2", "c"},
                                   {"order.created", "3", "c"},
                                   // A data-modifying CTE and its outer INSERT
                                   // interleave row by row.
                                   {"order.updated", "2", "u"},
                                   {"order.created", "102", "c"},
                                   {"order.updated", "3", "u"},
                                   {"order.created", "103", "c"},
                                   {"order.deleted", "1", "d"},
                                   {"happening.created", "[7, \"2025-06-01\"]", "c"},
                                   {"happening.updated", "[7, \"2025-06-01\"]", "u"},
                                   // A row moving between partitions is a delete from the
                                   // old partition and an insert into the new one.
                                   {"happening.deleted", "[7, \"2025-06-01\"]", "d"},
                                   {"happening.created", "[7, \"2026-02-01\"]", "c"}});
  auto events = s.events("orders");
  CHECK(events[0].payload == nlohmann::json::parse(
                                 R"({"id":1,"customer_id":10,"status":"new","total":9.99,
                                     "meta":{"a":1}})"));
  CHECK(events[0].source_table == "public.orders");
  CHECK(events[10].payload["status"] == "dup");  // a delete publishes the last state
  CHECK(events[11].payload == nlohmann::json::parse(R"({"note":"a","at":"2025-06-01"})"));
  CHECK(events[14].source_table == "public.events");
  CHECK(db.scalar("SELECT count(*) FROM \"" + s.service("orders") +
                  "\".outbox WHERE payload::text LIKE '%SECRET%' OR payload ? 'card_number'") ==
        "0");
  // Every event carries its writer's transaction id.
  CHECK(db.scalar("SELECT count(DISTINCT txid) FROM \"" + s.service("orders") +
                  "\".outbox WHERE aggregateid IN ('102', '103', '2', '3') AND op <> 'c'") == "1");
}

TEST_CASE("a rolled-back transaction leaves no event and a committed one leaves all",
          "[outbox][pg]") {
  auto owned = applied();
  OutboxScenario& s = *owned;
  TestDb& db = s.db();
  db.exec(
      "BEGIN; INSERT INTO public.orders (id) VALUES (1), (2); "
      "UPDATE public.orders SET status = 'x'; ROLLBACK;");
  CHECK(s.eventCount("orders") == "0");
  db.exec(
      "BEGIN; INSERT INTO public.orders (id) VALUES (1), (2); SAVEPOINT a; "
      "DELETE FROM public.orders WHERE id = 1; ROLLBACK TO a; "
      "UPDATE public.orders SET status = 'x' WHERE id = 2; COMMIT;");
  checkEvents(
      s.events("orders"),
      {{"order.created", "1", "c"}, {"order.created", "2", "c"}, {"order.updated", "2", "u"}});
  CHECK(db.scalar("SELECT count(DISTINCT txid) FROM \"" + s.service("orders") + "\".outbox") ==
        "1");
}

TEST_CASE("an update of the key publishes the old key deleted, then the new one created",
          "[outbox][pg]") {
  auto owned = applied();
  OutboxScenario& s = *owned;
  TestDb& db = s.db();
  db.exec("INSERT INTO public.orders (id, status) VALUES (1, 'new')");
  db.exec("UPDATE public.orders SET id = 2, status = 'paid' WHERE id = 1");
  db.exec("UPDATE public.orders SET status = 'shipped' WHERE id = 2");
  checkEvents(s.events("orders"), {{"order.created", "1", "c"},
                                   {"order.deleted", "1", "d"},
                                   {"order.created", "2", "c"},
                                   {"order.updated", "2", "u"}});
  auto events = s.events("orders");
  CHECK(events[1].payload["status"] == "new");  // the old row, as a delete publishes it
  CHECK(events[2].payload["status"] == "paid");
  CHECK(db.scalar("SELECT count(DISTINCT txid) FROM \"" + s.service("orders") +
                  "\".outbox WHERE aggregateid IN ('1', '2') AND seq > (SELECT min(seq) FROM \"" +
                  s.service("orders") + "\".outbox) AND type <> 'order.updated'") == "1");
}

TEST_CASE("TRUNCATE is refused with a clear message, or published when the plan says so",
          "[outbox][pg]") {
  auto owned = applied();
  OutboxScenario& s = *owned;
  TestDb& db = s.db();
  db.exec("INSERT INTO public.orders (id) VALUES (1)");
  try {
    db.exec("TRUNCATE public.orders");
    FAIL("TRUNCATE was not refused");
  } catch (const std::exception& e) {
    CHECK(std::string(e.what()).find("TRUNCATE of public.orders is refused") != std::string::npos);
  }
  CHECK(db.scalar("SELECT count(*) FROM public.orders") == "1");
  db.exec("INSERT INTO public.events VALUES (1, '2025-03-01', 'x')");
  // One partition alone would vanish without an event: refused, even though
  // the whole table's TRUNCATE is published.
  try {
    db.exec("TRUNCATE public.events_2025");
    FAIL("TRUNCATE of a partition was not refused");
  } catch (const std::exception& e) {
    CHECK(std::string(e.what()).find(
              "TRUNCATE of partition public.events_2025 of public.events is refused") !=
          std::string::npos);
  }
  CHECK(db.scalar("SELECT count(*) FROM public.events_2025") == "1");
  db.exec("TRUNCATE public.events");
  auto events = s.events("orders");
  REQUIRE(events.size() == 3);
  CHECK(events[2].type == "happening.truncated");
  CHECK(events[2].op == "t");
  CHECK(events[2].aggregateid.empty());
  CHECK(db.scalar("SELECT count(*) FROM public.events") == "0");
}

TEST_CASE("status names a partition added after the step and how to guard it", "[outbox][pg]") {
  auto owned = applied();
  OutboxScenario& s = *owned;
  TestDb& db = s.db();
  auto unguarded = [&] {
    CliResult r = s.cli({"status", "--json"});
    INFO(r.out << r.err);
    CHECK(r.exit_code == 0);
    return eventsOf(jsonLines(r.out), "outbox_partition_unguarded");
  };
  CHECK(unguarded().empty());
  db.exec(
      "CREATE TABLE public.\"Events 2027\" PARTITION OF public.events"
      " FOR VALUES FROM ('2027-01-01') TO ('2028-01-01')");
  db.exec("INSERT INTO public.\"Events 2027\" VALUES (9, '2027-02-02', 'n')");
  auto found = unguarded();
  REQUIRE(found.size() == 1);
  CHECK(found[0]["partition"] == "public.\"Events 2027\"");
  CHECK(found[0]["table"] == "public.events");
  db.exec(found[0]["fix"].get<std::string>());  // the statement it gives guards it
  CHECK(unguarded().empty());
  CHECK_THROWS_WITH(db.exec("TRUNCATE public.\"Events 2027\""), Catch::Contains("is refused"));
  CHECK(db.scalar("SELECT count(*) FROM public.\"Events 2027\"") == "1");
}

TEST_CASE("a writer without any privilege on the outbox still publishes", "[outbox][pg]") {
  auto owned = applied();
  OutboxScenario& s = *owned;
  TestDb& db = s.db();
  std::string writer = db.role("writer", "NOLOGIN");
  db.exec("GRANT SELECT, INSERT, UPDATE, DELETE ON public.orders TO \"" + writer + "\"");
  db.exec("SET ROLE \"" + writer +
          "\"; INSERT INTO public.orders (id, status) VALUES (5, 'n'); "
          "DELETE FROM public.orders WHERE id = 5; RESET ROLE;");
  checkEvents(s.events("orders"), {{"order.created", "5", "c"}, {"order.deleted", "5", "d"}});
  CHECK(db.scalar("SELECT has_table_privilege('" + writer + "', '\"" + s.service("orders") +
                  "\".outbox', 'INSERT')") == "f");
}

TEST_CASE("the outbox table and trigger functions belong to the service's group", "[outbox][pg]") {
  auto owned = applied();
  OutboxScenario& s = *owned;
  std::string svc = s.service("orders");
  CHECK(s.db().scalar("SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = '\"" + svc +
                      "\".outbox'::regclass") == svc);
  CHECK(s.db().scalar("SELECT string_agg(DISTINCT pg_get_userbyid(proowner) || ':' || "
                      "prosecdef || ':' || array_to_string(proconfig, ','), ' ') FROM pg_proc "
                      "WHERE pronamespace = '\"" +
                      svc + "\"'::regnamespace") == svc + ":true:search_path=pg_catalog, pg_temp");
  // Debezium's outbox event router reads these columns by name.
  CHECK(s.db().scalar("SELECT string_agg(attname, ',' ORDER BY attnum) FROM pg_attribute "
                      "WHERE attrelid = '\"" +
                      svc + "\".outbox'::regclass AND attnum > 0") ==
        "id,aggregatetype,aggregateid,type,payload,seq,txid,created_at,source_table,op");
}
