// The split step's database-mode gates, from facts (the e2e tests cover the
// reading of those facts on a real server; a server without wal_level =
// logical cannot be had without restarting the shared sandbox).
#include "catch2/catch.hpp"
#include "steps/split/database.h"

using namespace dbsplit::steps::split;

namespace {

DatabaseFacts good() {
  DatabaseFacts f;
  f.wal_level = "logical";
  f.replication = true;
  f.user = "admin";
  TargetFacts t;
  t.service = "orders";
  t.dbname = "orders";
  t.redacted = "host=/tmp dbname=orders";
  t.superuser = true;
  t.create_subscription = true;
  t.server_version = 150000;
  t.same_cluster = true;
  t.slot_name = "dbsplit_shop_orders";
  f.targets.push_back(t);
  return f;
}

const dbsplit::engine::Gate& gate(const std::vector<dbsplit::engine::Gate>& gates,
                                  const std::string& name) {
  for (const auto& g : gates) {
    if (g.name == name) return g;
  }
  FAIL("no gate " << name);
  throw;
}

}  // namespace

TEST_CASE("database-mode gates pass on a ready source and an absent target on the same cluster",
          "[split]") {
  auto gates = databaseGates(good());
  for (const auto& g : gates) {
    INFO(g.name << ": " << g.evidence);
    CHECK(g.passed);
  }
  CHECK(gate(gates, "target_database").evidence.find("will be created") != std::string::npos);
}

TEST_CASE("a source without wal_level = logical is refused with what to change", "[split]") {
  DatabaseFacts f = good();
  f.wal_level = "replica";
  const auto& g = gate(databaseGates(f), "wal_level");
  CHECK_FALSE(g.passed);
  CHECK(g.evidence.find("ALTER SYSTEM SET wal_level = logical") != std::string::npos);
}

TEST_CASE("a role without replication, a table without identity, a crossing reference", "[split]") {
  DatabaseFacts f = good();
  f.replication = false;
  f.no_identity = {"orders.notes"};
  f.outside = {"foreign key x of orders.items references public.products, which does not move"};
  auto gates = databaseGates(f);
  CHECK(gate(gates, "replication_privilege").evidence.find("ALTER ROLE \"admin\" REPLICATION") !=
        std::string::npos);
  CHECK(gate(gates, "replica_identity").evidence.find("orders.notes") != std::string::npos);
  CHECK_FALSE(gate(gates, "schema_self_contained").passed);
}

TEST_CASE("target databases: not empty, on another server, no superuser", "[split]") {
  DatabaseFacts f = good();
  f.targets[0].exists = true;
  f.targets[0].not_empty = {"relation public.leftover"};
  CHECK(gate(databaseGates(f), "target_database").evidence.find("relation public.leftover") !=
        std::string::npos);
  f = good();
  f.targets[0].same_cluster = false;
  CHECK(gate(databaseGates(f), "target_database").evidence.find("create it there") !=
        std::string::npos);
  f = good();
  f.targets[0].exists = true;
  CHECK(gate(databaseGates(f), "target_database").passed);  // exists and empty
  f.targets[0].superuser = false;
  f.targets[0].create_subscription = false;
  CHECK_FALSE(gate(databaseGates(f), "target_database").passed);
}

TEST_CASE("a managed admin's target: a subscription needs a superuser on 15, the role on 16",
          "[split][managed]") {
  DatabaseFacts f = good();
  f.targets[0].superuser = false;
  f.targets[0].create_subscription = false;
  const auto& on15 = gate(databaseGates(f), "target_database");
  CHECK_FALSE(on15.passed);
  CHECK(on15.evidence.find("needs a superuser there on PostgreSQL 15") != std::string::npos);
  CHECK(on15.evidence.find("rds_superuser") != std::string::npos);
  f.targets[0].server_version = 160002;
  const auto& on16 = gate(databaseGates(f), "target_database");
  CHECK(on16.evidence.find("GRANT pg_create_subscription TO") != std::string::npos);
  f.targets[0].create_subscription = true;  // a member of pg_create_subscription
  CHECK(gate(databaseGates(f), "target_database").passed);
}

TEST_CASE("a target on another server names the roles to create there first", "[split]") {
  DatabaseFacts f = good();
  f.targets[0].same_cluster = false;
  f.targets[0].exists = true;
  f.targets[0].missing_roles = {"orders", "orders_app"};
  const auto& g = gate(databaseGates(f), "target_database");
  CHECK_FALSE(g.passed);
  CHECK(g.evidence.find("roles orders, orders_app do not exist") != std::string::npos);
  f.targets[0].missing_roles.clear();
  CHECK(gate(databaseGates(f), "target_database").passed);
}

TEST_CASE("replication names are folded and bounded", "[split]") {
  std::string name = replicationName("shop-breakup", "Orders", "16384/shop");
  CHECK(name.rfind("dbsplit_shop_breakup_orders_", 0) == 0);
  CHECK(name.size() == std::string("dbsplit_shop_breakup_orders_").size() + 8);
  std::string longName = replicationName("m", std::string(80, 'x'), "16384/shop");
  CHECK(longName.size() == 63);
  CHECK(longName != replicationName("m", std::string(81, 'x'), "16384/shop"));
}

TEST_CASE("replication names of one plan differ between two databases of one cluster",
          "[split][security]") {
  CHECK(replicationName("shop", "orders", "16384/shop") !=
        replicationName("shop", "orders", "16385/shop_staging"));
  // The same name recreated under another oid is another database too.
  CHECK(replicationName("shop", "orders", "16384/shop") !=
        replicationName("shop", "orders", "16390/shop"));
  std::string longName = replicationName(std::string(40, 'm'), std::string(40, 's'), "1/a");
  CHECK(longName.size() <= 63);
  CHECK(longName != replicationName(std::string(40, 'm'), std::string(40, 's'), "2/a"));
}

TEST_CASE("too few logical replication workers, slots or WAL senders are named before anything",
          "[split]") {
  DatabaseFacts f = good();
  f.free_slots = 10;
  f.free_senders = 10;
  f.targets[0].server = "7300000000000000001";
  f.targets[0].free_workers = 2;
  TargetFacts second = f.targets[0];
  second.service = "billing";
  second.dbname = "billing";
  f.targets.push_back(second);
  // Two apply workers and one table-sync worker: three.
  auto short_workers = gate(databaseGates(f), "replication_capacity");
  CHECK_FALSE(short_workers.passed);
  CHECK(short_workers.evidence.find("server of orders, billing: logical replication workers 2 "
                                    "free, 3 needed") != std::string::npos);
  CHECK(short_workers.evidence.find("max_logical_replication_workers") != std::string::npos);

  for (auto& t : f.targets) t.free_workers = 3;
  f.free_slots = 2;
  auto short_slots = gate(databaseGates(f), "replication_capacity");
  CHECK_FALSE(short_slots.passed);
  CHECK(short_slots.evidence.find("replication slots 2 free, 3 needed") != std::string::npos);
  CHECK(short_slots.evidence.find("workers") == std::string::npos);

  f.free_slots = 3;
  auto enough = gate(databaseGates(f), "replication_capacity");
  CHECK(enough.passed);
  CHECK(enough.evidence.find("room for 2 subscription(s)") != std::string::npos);
}

TEST_CASE("a replication slot of the same name in another database of the server is refused",
          "[split]") {
  DatabaseFacts f = good();
  CHECK(gate(databaseGates(f), "replication_slot").passed);
  f.targets[0].slot_taken_by = "other_shop";
  const auto& g = gate(databaseGates(f), "replication_slot");
  CHECK_FALSE(g.passed);
  CHECK(g.evidence.find("dbsplit_shop_orders") != std::string::npos);
  CHECK(g.evidence.find("other_shop") != std::string::npos);
  CHECK(g.evidence.find("[migration] name") != std::string::npos);
}
