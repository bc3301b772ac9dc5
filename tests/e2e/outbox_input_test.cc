// The outbox step on bad input: each problem named at its plan line, the right
// exit code, nothing changed. Also the Debezium connector configs and retention.
#include "catch2/catch.hpp"
#include "support/outbox_fixture.h"
#include "support/scenario.h"

using namespace dbsplit::test;

namespace {

const char* kTables = R"SQL(
CREATE TABLE public.orders (id int PRIMARY KEY, status text, card_number text);
CREATE TABLE public.log (at timestamptz, line text);
CREATE TABLE public.shipments (id int PRIMARY KEY, order_id int);
)SQL";

std::string planWith(const std::string& event) {
  return R"TOML(
[[table]]
name = "public.orders"
owner = "@orders@"

[[table]]
name = "public.log"
owner = "@orders@"

[[table]]
name = "public.shipments"
owner = "@fulfillment@"

)TOML" + event;
}

void expectRefused(OutboxScenario& s, int code, const std::string& message) {
  const std::string before = s.db().schemaDump();
  CliResult r = s.cli({"run", "outbox", "--yes"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == code);
  CHECK(r.err.find(message) != std::string::npos);
  CHECK(r.err.find("dbsplit.toml:") != std::string::npos);  // names the plan line
  CHECK(s.db().schemaDump() == before);
  CHECK(s.stepStatus("outbox")["status"] == "pending");
}

}  // namespace

TEST_CASE("an event on a table without a primary key or aggregate_id is refused", "[outbox][pg]") {
  OutboxScenario s({"orders", "fulfillment"}, kTables,
                   planWith("[[event]]\ntable = \"public.log\"\naggregate_type = \"log\"\n"));
  s.advanceToOutbox();
  expectRefused(s, 3, "public.log has no primary key");
}

TEST_CASE("an event naming a column that does not exist is refused", "[outbox][pg]") {
  OutboxScenario s({"orders", "fulfillment"}, kTables,
                   planWith("[[event]]\ntable = \"public.orders\"\naggregate_type = \"order\"\n"
                            "exclude = [\"card_numbr\"]\n"));
  s.advanceToOutbox();
  expectRefused(s, 2, "column \"card_numbr\" does not exist in public.orders (did you mean");
}

TEST_CASE("an event excluding its primary key column is refused", "[outbox][pg]") {
  OutboxScenario s({"orders", "fulfillment"}, kTables,
                   planWith("[[event]]\ntable = \"public.orders\"\naggregate_type = \"order\"\n"
                            "exclude = [\"id\"]\n"));
  s.advanceToOutbox();
  expectRefused(s, 2, "\"id\" is a primary key column of public.orders");
}

TEST_CASE("an event on a table another service owns in the database is refused", "[outbox][pg]") {
  OutboxScenario s({"orders", "fulfillment"}, kTables,
                   planWith("[[event]]\ntable = \"public.orders\"\naggregate_type = \"order\"\n"));
  s.advanceToOutbox();
  s.db().exec(s.expand("ALTER TABLE public.orders OWNER TO \"@fulfillment@\""));
  expectRefused(s, 3, "public.orders is owned by service");
}

TEST_CASE("the outbox step without the service's schema asks for ownership first", "[outbox][pg]") {
  OutboxScenario s({"orders", "fulfillment"}, kTables,
                   planWith("[[event]]\ntable = \"public.orders\"\naggregate_type = \"order\"\n"));
  s.advanceToOutbox();
  s.db().exec(s.expand("DROP SCHEMA \"@orders@\""));
  expectRefused(s, 3, "run `dbsplit run ownership` first");
}

TEST_CASE("plan outbox --format debezium renders one outbox-router config per service",
          "[outbox][pg]") {
  OutboxScenario s({"orders", "fulfillment"}, kTables,
                   planWith("[[event]]\ntable = \"public.orders\"\naggregate_type = \"order\"\n"));
  CliResult r = runCli({"--plan", s.dir().file("dbsplit.toml"), "--dsn",
                        "host=db.example port=6432 dbname=shop user=cdc password=s3cr3t", "plan",
                        "outbox", "--format", "debezium", "--json"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  auto connectors = eventsOf(jsonLines(r.out), "connector");
  REQUIRE(connectors.size() == 1);  // fulfillment publishes nothing
  const auto& c = connectors[0]["config"]["config"];
  CHECK(c["transforms.outbox.type"] == "io.debezium.transforms.outbox.EventRouter");
  CHECK(c["transforms.outbox.route.by.field"] == "aggregatetype");
  CHECK(c["table.include.list"] == s.service("orders") + ".outbox");
  CHECK(c["database.hostname"] == "db.example");
  CHECK(c["database.port"] == "6432");
  CHECK(c["database.dbname"] == "shop");
  CHECK(r.out.find("s3cr3t") == std::string::npos);
  CHECK(r.err.find("s3cr3t") == std::string::npos);
}

TEST_CASE("prune deletes only old events every consumer cursor has passed", "[outbox][pg]") {
  OutboxScenario s({"orders", "fulfillment"}, kTables,
                   planWith("[[event]]\ntable = \"public.orders\"\naggregate_type = \"order\"\n"
                            "\n[[projection]]\nconsumer = \"@fulfillment@\"\n"
                            "source = \"public.orders\"\nname = \"order_view\"\n"
                            "columns = [\"id\", \"status\"]\nkey = [\"id\"]\n"));
  s.advanceToOutbox();
  REQUIRE(s.cli({"run", "outbox"}).exit_code == 0);
  TestDb& db = s.db();
  db.exec("INSERT INTO public.orders (id) SELECT generate_series(1, 10)");
  const std::string outbox = s.expand("\"@orders@\".outbox");
  db.exec("UPDATE " + outbox + " SET created_at = now() - interval '8 days' WHERE seq <= 8");

  // No cursor table yet: the consumer has consumed nothing.
  CliResult blocked = s.cli({"outbox", "prune", "--older-than", "7d", "--json"});
  INFO(blocked.out << blocked.err);
  REQUIRE(blocked.exit_code == 0);
  auto ev = eventsOf(jsonLines(blocked.out), "prune");
  REQUIRE(ev.size() == 1);
  CHECK(ev[0]["deleted"] == 0);
  CHECK(!ev[0]["blocked_by"].empty());
  CHECK(db.scalar("SELECT count(*) FROM " + outbox) == "10");

  const std::string cursor = s.expand("\"@fulfillment@\".dbsplit_cursor");
  db.exec("CREATE TABLE " + cursor + " (outbox text PRIMARY KEY, seq bigint NOT NULL)");
  CHECK(s.cli({"outbox", "prune", "--older-than", "7d"}).exit_code == 0);
  CHECK(db.scalar("SELECT count(*) FROM " + outbox) == "10");  // no cursor row: blocked

  db.exec(s.expand("INSERT INTO " + cursor + " VALUES ('@orders@.outbox', 5)"));
  CliResult dry = s.cli({"outbox", "prune", "--older-than", "7d", "--dry-run", "--json"});
  CHECK(eventsOf(jsonLines(dry.out), "prune")[0]["deleted"] == 4);
  CHECK(db.scalar("SELECT count(*) FROM " + outbox) == "10");
  CliResult pruned = s.cli({"outbox", "prune", "--older-than", "7d", "--batch", "3"});
  INFO(pruned.out << pruned.err);
  REQUIRE(pruned.exit_code == 0);
  CHECK(db.scalar("SELECT string_agg(seq::text, ',' ORDER BY seq) FROM " + outbox) ==
        "5,6,7,8,9,10");  // below the cursor AND older than 7 days
}
