// The ownership step's gates over a catalogue snapshot, and the owned-data
// table: pure functions of the plan and the snapshot's JSON.
#include "catch2/catch.hpp"
#include "plan/plan.h"
#include "sql/template.h"
#include "steps/ownership/gates.h"
#include "steps/ownership/table.h"

using namespace dbsplit;
using namespace dbsplit::steps::ownership;

namespace {

const char* kPlan = R"([migration]
name = "shop"

[[service]]
name  = "orders"
roles = ["orders_app"]

[[service]]
name  = "fulfillment"
roles = ["fulfillment_app"]

[[table]]
name  = "public.orders"
owner = "orders"

[[table]]
name  = "public.shipments"
owner = "fulfillment"
)";

const char* kWaiver = R"(
[[waiver]]
service = "fulfillment"
table   = "public.orders"
reason  = "status write-back"
)";

nlohmann::json access(const std::string& service, const std::string& role, const std::string& table,
                      const std::string& kind, int calls,
                      const std::string& fingerprint = "ab12cd") {
  return {{"service", service},
          {"role", role},
          {"table", table},
          {"kind", kind},
          {"columns", {"id"}},
          {"calls", calls},
          {"via", nullptr},
          {"fingerprint", fingerprint},
          {"statement", "UPDATE public.orders SET status = $1 WHERE id = $2"}};
}

journal::SnapshotRecord snapshot(const nlohmann::json& accesses) {
  journal::SnapshotRecord s;
  s.id = 7;
  s.taken_at = "2026-01-01T00:00:00Z";
  s.kind = "catalogue";
  s.body = nlohmann::json{{"accesses", accesses}, {"unresolved", nlohmann::json::array()}}.dump();
  return s;
}

const engine::Gate& gate(const std::vector<engine::Gate>& gates, const std::string& name) {
  for (const auto& g : gates) {
    if (g.name == name) return g;
  }
  FAIL("no gate " << name);
  throw;
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("without a catalogue snapshot the gates pass and say how to get one", "[ownership]") {
  plan::Plan p = plan::parsePlan(kPlan, "/tmp/p/dbsplit.toml");
  auto gates = catalogueGates(p, nullptr);
  REQUIRE(gates.size() == 3);
  for (const auto& g : gates) {
    CHECK(g.passed);
    CHECK(g.evidence ==
          "no catalogue snapshot; run `dbsplit run catalogue` to check for non-owner writes");
  }
}

TEST_CASE("a non-owner write blocks, naming service, table, fingerprint and calls", "[ownership]") {
  plan::Plan p = plan::parsePlan(kPlan, "/tmp/p/dbsplit.toml");
  auto snap = snapshot(
      nlohmann::json::array({access("fulfillment", "fulfillment_app", "public.orders", "write", 12),
                             access("fulfillment", "fulfillment_app", "public.orders", "write", 3),
                             access("orders", "orders_app", "public.orders", "write", 100)}));
  auto gates = catalogueGates(p, &snap);
  const engine::Gate& g = gate(gates, "non_owner_writes");
  INFO(g.evidence);
  CHECK_FALSE(g.passed);
  CHECK(has(g.evidence, "fulfillment writes public.orders (fingerprint ab12cd, 15 calls"));
  CHECK(has(g.evidence, "snapshot #7"));
  CHECK(has(g.evidence, "[[waiver]]"));
}

TEST_CASE("a waiver lets a known non-owner write through", "[ownership]") {
  plan::Plan p = plan::parsePlan(std::string(kPlan) + kWaiver, "/tmp/p/dbsplit.toml");
  auto snap = snapshot(nlohmann::json::array(
      {access("fulfillment", "fulfillment_app", "public.orders", "write", 12)}));
  auto gates = catalogueGates(p, &snap);
  const engine::Gate& g = gate(gates, "non_owner_writes");
  INFO(g.evidence);
  CHECK(g.passed);
  CHECK(has(g.evidence, "waived: fulfillment writes public.orders"));
}

TEST_CASE("reads by other services and writes by unassigned roles do not block", "[ownership]") {
  plan::Plan p = plan::parsePlan(kPlan, "/tmp/p/dbsplit.toml");
  auto snap = snapshot(
      nlohmann::json::array({access("fulfillment", "fulfillment_app", "public.orders", "read", 12),
                             access("unassigned", "batch", "public.orders", "write", 2)}));
  auto gates = catalogueGates(p, &snap);
  const engine::Gate& g = gate(gates, "non_owner_writes");
  INFO(g.evidence);
  CHECK(g.passed);
  CHECK(has(g.evidence, "public.orders by batch"));
}

TEST_CASE("a table used by two services without an owner blocks", "[ownership]") {
  plan::Plan p = plan::parsePlan(kPlan, "/tmp/p/dbsplit.toml");
  auto snap = snapshot(nlohmann::json::array(
      {access("fulfillment", "fulfillment_app", "public.customers", "read", 1),
       access("orders", "orders_app", "public.customers", "write", 1),
       access("orders", "orders_app", "public.audit", "write", 1),
       access("unassigned", "x", "public.audit", "read", 1)}));
  const engine::Gate& g = gate(catalogueGates(p, &snap), "undeclared_tables");
  CHECK_FALSE(g.passed);
  CHECK(has(g.evidence, "public.customers (used by fulfillment, orders)"));
  CHECK(!has(g.evidence, "public.audit"));
}

TEST_CASE("a login role acting for two services is flagged, not blocking", "[ownership]") {
  plan::Plan p = plan::parsePlan(kPlan, "/tmp/p/dbsplit.toml");
  auto snap = snapshot(
      nlohmann::json::array({access("orders", "shared_app", "public.orders", "read", 1),
                             access("fulfillment", "shared_app", "public.shipments", "read", 1)}));
  auto gates = catalogueGates(p, &snap);
  const engine::Gate& g = gate(gates, "shared_login_roles");
  CHECK(g.passed);
  CHECK(has(g.evidence, "FLAGGED: shared_app acts for fulfillment and orders"));
  CHECK(gate(gates, "non_owner_writes").passed);
}

TEST_CASE("an unreadable snapshot blocks rather than passing silently", "[ownership]") {
  plan::Plan p = plan::parsePlan(kPlan, "/tmp/p/dbsplit.toml");
  journal::SnapshotRecord s;
  s.id = 3;
  s.body = "{not json";
  auto gates = catalogueGates(p, &s);
  CHECK_FALSE(gate(gates, "non_owner_writes").passed);
}

TEST_CASE("the owned-data table of seed 001 lists tables and consumers per service",
          "[ownership]") {
  plan::Plan p = plan::parsePlan(sql::playbookText("ecommerce.toml"), "/tmp/p/dbsplit.toml");
  auto snap =
      snapshot(nlohmann::json::array({access("cart", "cart_app", "public.products", "read", 5)}));
  nlohmann::json t = ownedDataTable(p, &snap);
  REQUIRE(t["services"].size() == 6);
  const auto& orders = t["services"][2];
  CHECK(orders["service"] == "orders");
  CHECK(orders["tables"] == nlohmann::json({"public.orders", "public.order_items"}));
  CHECK(orders["consumers"][0]["service"] == "payments");
  CHECK(orders["consumers"][2]["service"] == "fulfillment");
  CHECK(orders["waived_writers"][0]["service"] == "fulfillment");
  std::string md = ownedDataMarkdown(t);
  INFO(md);
  CHECK(has(md, "| Service | Tables | Consumers |"));
  CHECK(has(md,
            "| catalog | public.categories, public.products | cart (projection product_view of "
            "public.products; reads public.products directly), orders (projection "
            "product_view of public.products) |"));
  CHECK(has(md,
            "| orders | public.orders, public.order_items | payments (projection order_view of "
            "public.orders), inventory (projection order_item_view of public.order_items), "
            "fulfillment (projection order_view of public.orders; projection order_item_view "
            "of public.order_items) |"));
  CHECK(has(md, "| payments | public.payment_attempts, public.refunds | -- |"));
}
