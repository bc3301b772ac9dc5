// The catalogue follows the triggers and rules a service's writes fire, on a
// real catalog: a cross-service write through an insert trigger, disabled and
// replica-only triggers not followed, partition clones not counted twice,
// hostile names, and dbsplit's own outbox trigger left out.
#include <set>
#include <string>

#include "catch2/catch.hpp"
#include "nlohmann/json.hpp"
#include "steps/outbox/sql.h"
#include "support/pg_test.h"

using namespace dbsplit::test;

namespace {

const char* kSchema = R"SQL(
CREATE SCHEMA orders;
CREATE SCHEMA inventory;
CREATE TABLE inventory.stock (item_id int PRIMARY KEY, on_hand int NOT NULL);
CREATE TABLE inventory.log (note text);
CREATE TABLE orders.orders (id int PRIMARY KEY, item_id int, qty int, status text);
CREATE FUNCTION orders.take_stock() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE inventory.stock SET on_hand = on_hand - NEW.qty WHERE item_id = NEW.item_id;
  RETURN NEW;
END $$;
CREATE TRIGGER take_stock AFTER INSERT ON orders.orders
  FOR EACH ROW EXECUTE FUNCTION orders.take_stock();
CREATE FUNCTION orders.note() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO inventory.log (note) VALUES (TG_OP || ' ' || TG_TABLE_NAME || ' ' || OLD.status);
  RETURN NULL;
END $$;
CREATE TRIGGER "Status ""Audit"" ü" AFTER UPDATE OF status ON orders.orders
  FOR EACH ROW EXECUTE FUNCTION orders.note();
CREATE TRIGGER off AFTER DELETE ON orders.orders FOR EACH ROW EXECUTE FUNCTION orders.note();
ALTER TABLE orders.orders DISABLE TRIGGER off;
CREATE TRIGGER replica_only AFTER DELETE ON orders.orders
  FOR EACH ROW EXECUTE FUNCTION orders.note();
ALTER TABLE orders.orders ENABLE REPLICA TRIGGER replica_only;
CREATE TRIGGER always AFTER TRUNCATE ON orders.orders
  FOR EACH STATEMENT EXECUTE FUNCTION orders.note();
ALTER TABLE orders.orders ENABLE ALWAYS TRIGGER always;
CREATE RULE keep_deleted AS ON DELETE TO orders.orders
  DO ALSO INSERT INTO inventory.log (note) VALUES (old.status);

CREATE TABLE orders.events (id int, at date NOT NULL) PARTITION BY RANGE (at);
CREATE TABLE orders.events_2026 PARTITION OF orders.events
  FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE TRIGGER fanout AFTER INSERT ON orders.events
  FOR EACH ROW EXECUTE FUNCTION orders.take_stock();

CREATE SCHEMA "Kasse Ü";
CREATE TABLE "Kasse Ü"."Bon ""Zeilen""" ("Id" int, "Menge€" int);
CREATE FUNCTION "Kasse Ü"."Ünï ""fn"""() RETURNS trigger LANGUAGE plpgsql
  SET search_path = inventory, pg_temp AS $$
BEGIN
  UPDATE stock SET on_hand = on_hand - NEW."Menge€" WHERE item_id = NEW."Id";
  RETURN NEW;
END $$;
CREATE TRIGGER "Nimm ""Lager"" ü" BEFORE INSERT ON "Kasse Ü"."Bon ""Zeilen"""
  FOR EACH ROW EXECUTE FUNCTION "Kasse Ü"."Ünï ""fn"""();

-- What step 3 installs on a published table (names from src/steps/outbox/sql.h).
CREATE TABLE inventory.outbox (seq bigserial, payload jsonb);
CREATE FUNCTION inventory.outbox_stock_1a2b3c4d() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO inventory.outbox (payload) VALUES (pg_catalog.to_jsonb(NEW));
  RETURN NULL;
END $$;
)SQL";

struct Fixture {
  TestDb db;
  TempDir dir;
  Fixture() {
    db.exec(kSchema);
    db.exec(std::string("CREATE TRIGGER ") + dbsplit::steps::outbox::kRowTrigger +
            " AFTER INSERT OR UPDATE OR DELETE ON inventory.stock"
            " FOR EACH ROW EXECUTE FUNCTION inventory.outbox_stock_1a2b3c4d()");
    dir.write("dbsplit.toml",
              "[migration]\nname = \"m\"\n"
              "[[service]]\nname = \"orders\"\nroles = [\"o_app\"]\n"
              "[[service]]\nname = \"inventory\"\nroles = [\"i_app\"]\n"
              "[[table]]\nname = \"inventory.stock\"\nowner = \"inventory\"\n");
  }
  // `dbsplit catalogue` of `sql` run by service orders: the snapshot (json) or the text.
  nlohmann::json catalogue(const std::string& sql, const std::string& format = "json") const {
    dir.write("q.sql", sql);
    CliResult r =
        runCli({"--plan", dir.file("dbsplit.toml"), "--dsn", db.dsn(), "--no-progress", "catalogue",
                "--source", "sql:" + dir.file("q.sql") + "@orders", "--format", format});
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    return format == "json" ? nlohmann::json::parse(r.out) : nlohmann::json(r.out);
  }
};

std::set<std::string> accesses(const nlohmann::json& snap) {
  std::set<std::string> out;
  for (const auto& a : snap["accesses"]) {
    out.insert(a["table"].get<std::string>() + " " + a["kind"].get<std::string>() +
               (a["via"].is_null() ? "" : " via " + a["via"].get<std::string>()));
  }
  return out;
}

}  // namespace

TEST_CASE("catalogue follows the triggers and rules a write fires", "[catalogue][pg]") {
  Fixture f;
  auto insert = f.catalogue("INSERT INTO orders.orders (id, item_id, qty) VALUES (1, 1, 2);\n");
  // The stock update fires dbsplit_outbox, which is not followed: no inventory.outbox.
  CHECK(accesses(insert) ==
        std::set<std::string>{"orders.orders write",
                              "inventory.stock write via trigger take_stock on orders.orders",
                              "inventory.stock read via trigger take_stock on orders.orders"});
  CHECK(insert["unresolved"].empty());  // NEW.qty, NEW.item_id

  // UPDATE OF status fires the hostile-named trigger; an update of qty fires nothing.
  auto update = f.catalogue("UPDATE orders.orders SET status = 'paid' WHERE id = 1;\n");
  CHECK(
      accesses(update) ==
      std::set<std::string>{"orders.orders write", "orders.orders read",
                            "inventory.log write via trigger Status \"Audit\" ü on orders.orders"});
  CHECK(update["unresolved"].empty());  // TG_OP, TG_TABLE_NAME, OLD.status
  CHECK(accesses(f.catalogue("UPDATE orders.orders SET qty = 1;\n")) ==
        std::set<std::string>{"orders.orders write"});

  // DELETE: the disabled and the replica-only triggers are not followed, the rule is.
  CHECK(accesses(f.catalogue("DELETE FROM orders.orders WHERE id = 1;\n")) ==
        std::set<std::string>{"orders.orders write", "orders.orders read",
                              "inventory.log write via rule keep_deleted on orders.orders"});
  // ENABLE ALWAYS fires like a plain trigger.
  CHECK(accesses(f.catalogue("TRUNCATE orders.orders;\n")) ==
        std::set<std::string>{"orders.orders write",
                              "inventory.log write via trigger always on orders.orders"});
}

TEST_CASE("catalogue counts a partitioned root's trigger once and reads hostile names",
          "[catalogue][pg]") {
  Fixture f;
  // PostgreSQL clones `fanout` onto events_2026; only the root's is followed.
  auto snap = f.catalogue(
      "INSERT INTO orders.events VALUES (1, '2026-05-01');\n"
      "INSERT INTO orders.events_2026 VALUES (2, '2026-05-02');\n");
  CHECK(accesses(snap) ==
        std::set<std::string>{"orders.events write",
                              "inventory.stock write via trigger fanout on orders.events",
                              "inventory.stock read via trigger fanout on orders.events"});

  auto hostile = f.catalogue("INSERT INTO \"Kasse Ü\".\"Bon \"\"Zeilen\"\"\" VALUES (1, 2);\n");
  const std::string via = " via trigger Nimm \"Lager\" ü on Kasse Ü.Bon \"Zeilen\"";
  CHECK(accesses(hostile) == std::set<std::string>{"Kasse Ü.Bon \"Zeilen\" write",
                                                   "inventory.stock write" + via,
                                                   "inventory.stock read" + via});
  CHECK(hostile["unresolved"].empty());

  // The text output names the trigger and marks the write into inventory's table.
  std::string text =
      f.catalogue("INSERT INTO orders.orders (id, item_id, qty) VALUES (1, 1, 2);\n", "text")
          .get<std::string>();
  INFO(text);
  CHECK(text.find("inventory.stock  (owner inventory)") != std::string::npos);
  CHECK(text.find("via trigger take_stock on orders.orders  << CROSS-SERVICE") !=
        std::string::npos);
}
