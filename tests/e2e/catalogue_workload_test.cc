// The catalogue against a real workload read from pg_stat_statements: the exact
// (service, table, kind) set, snapshots in the journal, --since deltas, and
// --propose output that loads as a plan.
#include <algorithm>

#include "catch2/catch.hpp"
#include "plan/plan.h"
#include "support/catalogue_workload.h"
#include "support/pg_test.h"
#include "support/scenario.h"

using namespace dbsplit::test;

namespace {

struct Shop {
  TestDb db;
  TempDir dir;
  ShopRoles roles;
  std::string plan;

  explicit Shop(const std::string& extra_plan = {}) {
    roles = {db.role("orders_app"), db.role("fulfil_app"), db.role("billing_app"),
             db.role("stray_app")};
    db.exec(shopSchemaSql(roles));
    runShopWorkload(roles, [this](const std::string& role) {
      std::string dsn = db.dsn();
      return dsn.replace(dsn.find("user=postgres"), 13, "user=" + role);
    });
    dir.write("dbsplit.toml", shopPlan(roles, extra_plan));
    plan = dir.file("dbsplit.toml");
  }

  CliResult cli(std::vector<std::string> args) const {
    std::vector<std::string> all = {"--plan", plan, "--dsn", db.dsn(), "--no-progress"};
    all.insert(all.end(), args.begin(), args.end());
    return runCli(all);
  }
};

const nlohmann::json* findAccess(const nlohmann::json& snap, const std::string& service,
                                 const std::string& table, const std::string& kind,
                                 const std::string& via) {
  for (const auto& a : snap["accesses"]) {
    if (a["service"] == service && a["table"] == table && a["kind"] == kind &&
        (via.empty() ? a["via"].is_null() : a["via"] == via)) {
      return &a;
    }
  }
  return nullptr;
}

}  // namespace

TEST_CASE("catalogue finds exactly the workload's accesses in pg_stat_statements",
          "[catalogue][pg]") {
  Shop shop;
  CliResult r = shop.cli({"catalogue", "--format", "json"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  auto snap = nlohmann::json::parse(r.out);
  CHECK(accessTriples(snap) == expectedShopAccesses());

  // Columns, views, functions and roles, as the contract spells them.
  const auto* summary =
      findAccess(snap, "fulfillment", "public.orders", "read", "view public.order_summary");
  REQUIRE(summary);
  CHECK((*summary)["columns"] == nlohmann::json({"customer_id", "id", "status"}));
  CHECK((*summary)["role"] == shop.roles.fulfillment);
  CHECK(findAccess(snap, "fulfillment", "public.customers", "read", "view public.open_orders"));
  CHECK(
      findAccess(snap, "billing", "public.customers", "read", "function public.customer_count()"));
  CHECK(findAccess(snap, "orders", "public.audit_log", "write", "function public.log_note(text)"));
  const auto* lines = findAccess(snap, "billing", "Billing Ünï.Invoice \"Lines\"", "write", "");
  REQUIRE(lines);
  CHECK((*lines)["columns"] == nlohmann::json({"Amount€", "Id", "order_id"}));
  CHECK((*lines)["fingerprint"].get<std::string>().size() == 16);
  CHECK((*lines)["calls"] == 1);
  CHECK(snap["unresolved"].empty());

  // The table view names the owner and marks cross-service accesses.
  CliResult text = shop.cli({"catalogue"});
  REQUIRE(text.exit_code == 0);
  CHECK(text.out.find("public.orders  (owner orders)") != std::string::npos);
  CHECK(text.out.find("<< CROSS-SERVICE") != std::string::npos);
}

TEST_CASE("run catalogue stores a snapshot, rollback deletes it, --since compares",
          "[catalogue][pg]") {
  Shop shop;
  const std::string dump = shop.db.schemaDump();
  CliResult bare = shop.cli({"catalogue", "--since", "1"});
  CHECK(bare.exit_code == 3);  // no snapshot yet
  CHECK(bare.err.find("no catalogue snapshot") != std::string::npos);

  CliResult run = shop.cli({"run", "catalogue"});
  INFO(run.out << run.err);
  REQUIRE(run.exit_code == 0);
  CHECK(run.out.find("0 action(s)") != std::string::npos);
  CHECK(shop.db.schemaDump() == dump);  // nothing changed in PostgreSQL

  // Nothing new since: every access is "stopped" (no call since), none new.
  CliResult same = shop.cli({"--json", "catalogue", "--since", "1"});
  INFO(same.out << same.err);
  REQUIRE(same.exit_code == 0);
  auto delta = eventsOf(jsonLines(same.out), "catalogue_delta");
  REQUIRE(delta.size() == 1);
  CHECK(delta[0]["added"].empty());
  CHECK(delta[0]["continuing"].empty());
  CHECK(!delta[0]["stopped"].empty());

  // A new reader appears; an existing one keeps going.
  std::string dsn = shop.db.dsn();
  dsn.replace(dsn.find("user=postgres"), 13, "user=" + shop.roles.stray);
  {
    auto c = connect(dsn);
    c->exec("SELECT region FROM sales.orders");
    c->exec("SELECT count(*) FROM customers");
  }
  CliResult later = shop.cli({"catalogue", "--since", "7d", "--format", "json"});
  INFO(later.out << later.err);
  REQUIRE(later.exit_code == 0);
  CHECK(later.err.find("no snapshot is 7d old yet") != std::string::npos);
  auto d = nlohmann::json::parse(later.out);
  REQUIRE(d["added"].size() == 1);
  CHECK(d["added"][0]["table"] == "sales.orders");
  CHECK(d["added"][0]["service"] == "unassigned");
  bool continuing = std::any_of(d["continuing"].begin(), d["continuing"].end(), [](auto& e) {
    return e["table"] == "public.customers" && e["service"] == "unassigned" && e["kind"] == "read";
  });
  CHECK(continuing);

  REQUIRE(shop.cli({"rollback", "catalogue"}).exit_code == 0);
  CHECK(shop.cli({"catalogue", "--since", "1"}).exit_code == 3);  // snapshot 1 is gone
  CHECK(shop.db.schemaDump() == dump);
}

TEST_CASE("catalogue --store keeps history that a rollback of step 1 leaves alone",
          "[catalogue][pg]") {
  Shop shop;
  const std::string dump = shop.db.schemaDump();
  REQUIRE(shop.cli({"run", "catalogue"}).exit_code == 0);  // snapshot 1, the step's record
  CliResult stored = shop.cli({"--json", "catalogue", "--store", "--since", "1"});
  INFO(stored.out << stored.err);
  REQUIRE(stored.exit_code == 0);
  auto ev = eventsOf(jsonLines(stored.out), "catalogue_stored");
  REQUIRE(ev.size() == 1);
  CHECK(ev[0]["id"] == 2);
  CHECK(eventsOf(jsonLines(stored.out), "catalogue_delta")[0]["baseline_id"] == 1);

  REQUIRE(shop.cli({"rollback", "catalogue"}).exit_code == 0);
  CliResult gone = shop.cli({"catalogue", "--since", "1"});
  CHECK(gone.exit_code != 0);  // the step's record is gone
  CHECK(gone.err.find("the journal has no catalogue snapshot 1") != std::string::npos);
  CliResult kept = shop.cli({"--json", "catalogue", "--since", "2"});
  INFO(kept.out << kept.err);
  CHECK(kept.exit_code == 0);  // the stored one is history
  CHECK(shop.db.schemaDump() == dump);
}

TEST_CASE("catalogue --propose prints a draft that loads as a plan", "[catalogue][pg]") {
  Shop shop;
  CliResult r = shop.cli({"catalogue", "--propose"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  shop.dir.write("draft.toml", r.out);
  auto draft = dbsplit::plan::loadPlan(shop.dir.file("draft.toml"));
  CHECK(draft.services.size() == 3);
  REQUIRE(draft.findTable({"public", "orders"}));
  CHECK(draft.findTable({"public", "orders"})->owner == "orders");
  REQUIRE(draft.findTable({"public", "customers"}));
  CHECK(draft.findTable({"public", "customers"})->owner == "orders");
  REQUIRE(draft.findTable({"Billing Ünï", "Invoice \"Lines\""}));
  CHECK(r.out.find("DECIDE: several services write it equally often") != std::string::npos);
  CHECK(r.out.find("DECIDE: no service writes it") != std::string::npos);  // sales.orders
  CHECK(r.out.find("belongs to no service") != std::string::npos);         // the stray role
}

TEST_CASE("catalogue prints csv, mermaid and dot", "[catalogue][pg]") {
  Shop shop;
  CliResult csv = shop.cli({"catalogue", "--format", "csv"});
  REQUIRE(csv.exit_code == 0);
  CHECK(csv.out.rfind("service,role,table,kind,columns,calls,via,fingerprint,source\n", 0) == 0);
  CHECK(csv.out.find("billing," + shop.roles.billing + ",sales.orders,read,region,1,") !=
        std::string::npos);
  CliResult mermaid = shop.cli({"catalogue", "--format", "mermaid"});
  REQUIRE(mermaid.exit_code == 0);
  CHECK(mermaid.out.rfind("graph LR", 0) == 0);
  CHECK(mermaid.out.find("public.customers") != std::string::npos);
  CHECK(mermaid.out.find("sales.orders") == std::string::npos);  // not shared
  CliResult dot = shop.cli({"catalogue", "--format", "dot"});
  REQUIRE(dot.exit_code == 0);
  CHECK(dot.out.rfind("digraph catalogue {", 0) == 0);
  CHECK(dot.out.find("color=red") != std::string::npos);
}
