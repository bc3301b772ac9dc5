// Snapshot JSON round trip, deltas, and the --propose draft loading as a plan.
#include "catalogue/delta.h"
#include "catalogue/render.h"
#include "catch2/catch.hpp"
#include "plan/plan.h"

using namespace dbsplit::catalogue;

namespace {
Access access(std::string service, std::string role, std::string table, std::string kind,
              std::int64_t calls) {
  Access a;
  a.service = std::move(service);
  a.role = std::move(role);
  a.table = std::move(table);
  a.kind = std::move(kind);
  a.calls = calls;
  a.columns = {"id"};
  a.fingerprint = "ab";
  a.statement = "SELECT id FROM t";
  return a;
}

Snapshot sample() {
  Snapshot s;
  s.taken_at = "2026-01-01T00:00:00.000Z";
  s.sources = {"pg_stat_statements"};
  s.accesses = {access("orders", "orders_app", "public.orders", "write", 10),
                access("fulfillment", "ful_app", "public.orders", "read", 5),
                access("fulfillment", "ful_app", "public.shipments", "write", 3),
                access("billing", "bill_app", "public.shipments", "write", 3),
                access("unassigned", "stray", "public.notes", "read", 1),
                access("unassigned", "stray", R"(Sales Dept.Order "Items")", "write", 2)};
  s.unresolved = {{"SELEC 1", "does not parse", 2, "x.sql:3", "sql:x.sql"}};
  return s;
}
}  // namespace

TEST_CASE("a snapshot survives its JSON round trip", "[catalogue]") {
  Snapshot s = sample();
  auto j = s.toJson();
  CHECK(j["accesses"][0]["via"].is_null());
  CHECK(j["unresolved"][0]["where"] == "x.sql:3");
  CHECK(Snapshot::fromJson(j).toJson() == j);
}

TEST_CASE("a delta lists new accesses and accesses with no call since", "[catalogue]") {
  Snapshot before = sample();
  Snapshot now = sample();
  now.accesses[0].calls = 12;                                                         // continuing
  now.accesses.erase(now.accesses.begin() + 1);                                       // gone
  now.accesses.push_back(access("billing", "bill_app", "public.orders", "read", 1));  // new
  Delta d = diffSnapshots(before, now);
  REQUIRE(d.added.size() == 1);
  CHECK(d.added[0].service == "billing");
  CHECK(d.continuing.size() == 1);
  // the fulfillment read is gone; four accesses kept their call counts
  CHECK(d.stopped.size() == 5);
  auto j = deltaJson(d);
  CHECK(j["added"][0]["table"] == "public.orders");
  // The text lists the continuing accesses too, not only their count.
  const std::string text = renderDelta(d);
  CHECK_THAT(text, Catch::Contains("continuing accesses (1):\n  write  orders"));
  CHECK_THAT(text, Catch::Contains("public.orders  calls 10 -> 12"));
}

TEST_CASE("the proposal loads as a valid plan and flags ties and unowned tables", "[catalogue]") {
  auto plan = dbsplit::plan::parsePlan(
      "[migration]\nname = \"shop\"\n"
      "[[service]]\nname = \"orders\"\nroles = [\"orders_app\"]\n"
      "[[service]]\nname = \"fulfillment\"\nroles = [\"ful_app\"]\n"
      "[[service]]\nname = \"billing\"\nroles = [\"bill_app\"]\n",
      "/tmp/p.toml");
  std::string draft = renderProposal(sample(), &plan);
  INFO(draft);
  auto loaded = dbsplit::plan::parsePlan(draft, "/tmp/draft.toml");
  CHECK(loaded.services.size() == 3);
  REQUIRE(loaded.findTable({"public", "orders"}));
  CHECK(loaded.findTable({"public", "orders"})->owner == "orders");
  CHECK(draft.find("DECIDE: several services write it equally often") != std::string::npos);
  CHECK(draft.find("DECIDE: no service writes it") != std::string::npos);
  CHECK(draft.find("role \"stray\" belongs to no service") != std::string::npos);
  // Without a plan, each role is proposed as a service of its own.
  auto bare = dbsplit::plan::parsePlan(renderProposal(sample(), nullptr), "/tmp/d.toml");
  CHECK(bare.services.size() == 4);
  REQUIRE(bare.findTable({"Sales Dept", "Order \"Items\""}));
  CHECK(bare.findTable({"Sales Dept", "Order \"Items\""})->owner == "stray");
}

TEST_CASE(
    "when writers disagree the proposal marks DECIDE with each one's evidence and proposes the "
    "one that creates rows over the one with the most calls",
    "[catalogue]") {
  Snapshot s;
  s.stats.statements = 3;
  Access create = access("customers", "cust_app", "public.customer", "write", 5);
  create.statement = "INSERT INTO customer (id, email) VALUES ($1, $2)";
  create.columns = {"id", "email"};
  Access touch = access("rentals", "rent_app", "public.customer", "write", 15);
  touch.statement = "UPDATE customer SET last_update = now() WHERE id = $1";
  touch.columns = {"last_update"};
  Access read = access("rentals", "rent_app", "public.customer", "read", 40);
  s.accesses = {create, touch, read};
  auto plan = dbsplit::plan::parsePlan(
      "[migration]\nname = \"shop\"\n"
      "[[service]]\nname = \"customers\"\nroles = [\"cust_app\"]\n"
      "[[service]]\nname = \"rentals\"\nroles = [\"rent_app\"]\n",
      "/tmp/p.toml");
  const std::string draft = renderProposal(s, &plan);
  INFO(draft);
  CHECK_THAT(draft, Catch::Contains("# DECIDE: 2 services write it"));
  CHECK_THAT(draft, Catch::Contains("#   customers: 5 INSERT\n"));
  CHECK_THAT(draft, Catch::Contains("#   rentals: 15 UPDATE (last_update), reads 40\n"));
  auto loaded = dbsplit::plan::parsePlan(draft, "/tmp/draft.toml");
  REQUIRE(loaded.findTable({"public", "customer"}));
  CHECK(loaded.findTable({"public", "customer"})->owner == "customers");
}

TEST_CASE("graphs name the shared tables and mark cross-service edges", "[catalogue]") {
  Snapshot s = sample();
  std::string m = renderMermaid(s, nullptr);
  CHECK(m.rfind("graph LR\n", 0) == 0);
  CHECK(m.find("public.shipments") != std::string::npos);
  CHECK(m.find("public.notes") == std::string::npos);  // used by one service only
  CHECK(m.find("linkStyle") != std::string::npos);
  std::string d = renderDot(s, nullptr);
  CHECK(d.find("digraph catalogue {") == 0);
  CHECK(d.find("color=red") != std::string::npos);
  std::string csv = renderCsv(s);
  CHECK(csv.find("\"Sales Dept.Order \"\"Items\"\"\"") != std::string::npos);
}
