// A complete, valid plan with hostile identifiers parses into exactly the
// structs the steps consume; defaults and the journal path are filled in.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include "catch2/catch.hpp"
#include "plan/plan.h"

using dbsplit::plan::parsePlan;
using dbsplit::plan::Plan;
using dbsplit::plan::QualifiedName;
namespace fs = std::filesystem;

namespace {

const char* kFullPlan = R"(# The e-commerce breakup, with names that need quoting.
[migration]
name     = "shop-breakup"
database = "postgresql://admin:s3cret@db.example/shop"
journal  = "state/../state/shop.db"

[[service]]
name     = "orders"
roles    = ["orders_app", "Orders Reporter"]
database = "postgresql:///orders"

[[service]]
name  = "fulfillment"
roles = ["fulfillment_app"]
database = "host=db2 dbname=fulfillment password=hunter2"

[[table]]
name  = '"Sales Dept"."Order ""Items"""'
owner = "orders"

[[table]]
name  = "Public.Orders"      # folds to public.orders
owner = "orders"

[[table]]
name  = 'public."Café Ünïcode"'
owner = "fulfillment"

[[event]]
table          = "public.orders"
aggregate_type = "order"
aggregate_id   = ["id", "Region Code"]
columns        = ["id", "Region Code", "status", "Prix €"]
exclude        = ["card_number"]
operations     = ["update", "insert"]
truncate       = "publish"

[[event]]
table          = '"Sales Dept"."Order ""Items"""'
aggregate_type = "order_item"
aggregate_id   = "item id"

[[projection]]
consumer = "fulfillment"
source   = "PUBLIC.orders"
name     = "Order View"
columns  = ["id", "Region Code", "status"]
key      = ["id", "Region Code"]

[[waiver]]
service = "fulfillment"
table   = "public.orders"
reason  = "status write-back until ShipmentDispatched is consumed"

[step.catalogue]
[step.revoke]
deprecation_window = "36h"
require_compare    = false
mode               = "observe"

[step.split]
mode              = "database"
allow_unqualified = true
on_cutover        = "./switch-dsn.sh"

[step.selftest]
kinds = ["index", "comment"]
)";

const char* kMinimalPlan = "[migration]\nname = \"tiny\"\n";

// A fresh directory under the system temp dir, removed at scope exit.
struct TempDir {
  fs::path path;
  TempDir() {
    std::string templ = (fs::temp_directory_path() / "dbsplit-plan-XXXXXX").string();
    REQUIRE(mkdtemp(templ.data()) != nullptr);
    path = templ;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

// Changes the working directory for its lifetime.
struct CurrentDir {
  fs::path previous = fs::current_path();
  explicit CurrentDir(const fs::path& path) { fs::current_path(path); }
  ~CurrentDir() { fs::current_path(previous); }
};

void writeFile(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  REQUIRE(out.good());
}

}  // namespace

TEST_CASE("a full plan with hostile identifiers parses to the expected structs", "[plan]") {
  Plan plan = parsePlan(kFullPlan, "/plans/shop.toml");

  CHECK(plan.file == "/plans/shop.toml");
  CHECK(plan.migration.name == "shop-breakup");
  CHECK(plan.migration.database == "postgresql://admin:s3cret@db.example/shop");
  CHECK(plan.migration.journal == "/plans/state/shop.db");
  CHECK(plan.migration.pos.str() == "/plans/shop.toml:2:1");

  REQUIRE(plan.services.size() == 2);
  CHECK(plan.services[0].name == "orders");
  CHECK(plan.services[0].roles == std::vector<std::string>{"orders_app", "Orders Reporter"});
  CHECK(plan.services[0].database == "postgresql:///orders");
  CHECK(plan.services[1].name == "fulfillment");
  CHECK(plan.services[1].pos.line == 12);

  REQUIRE(plan.tables.size() == 3);
  CHECK(plan.tables[0].name == QualifiedName{"Sales Dept", "Order \"Items\""});
  CHECK(plan.tables[0].name.quoted() == R"("Sales Dept"."Order ""Items""")");
  CHECK(plan.tables[0].owner == "orders");
  CHECK(plan.tables[0].pos.line == 17);
  CHECK(plan.tables[1].name == QualifiedName{"public", "orders"});
  CHECK(plan.tables[2].name == QualifiedName{"public", "Café Ünïcode"});
  CHECK(plan.tables[2].owner == "fulfillment");

  REQUIRE(plan.events.size() == 2);
  const auto& orders = plan.events[0];
  CHECK(orders.table == QualifiedName{"public", "orders"});
  CHECK(orders.aggregate_type == "order");
  CHECK(orders.aggregate_id == std::vector<std::string>{"id", "Region Code"});
  CHECK(orders.columns == std::vector<std::string>{"id", "Region Code", "status", "Prix €"});
  CHECK(orders.exclude == std::vector<std::string>{"card_number"});
  CHECK(orders.operations == std::vector<std::string>{"update", "insert"});
  CHECK(orders.publish_truncate);
  const auto& items = plan.events[1];
  CHECK(items.table == QualifiedName{"Sales Dept", "Order \"Items\""});
  CHECK(items.aggregate_id == std::vector<std::string>{"item id"});
  CHECK(items.columns.empty());
  CHECK(items.exclude.empty());
  CHECK(items.operations == std::vector<std::string>{"insert", "update", "delete"});
  CHECK_FALSE(items.publish_truncate);

  REQUIRE(plan.projections.size() == 1);
  const auto& view = plan.projections[0];
  CHECK(view.consumer == "fulfillment");
  CHECK(view.source == QualifiedName{"public", "orders"});
  CHECK(view.name == "Order View");
  CHECK(view.columns == std::vector<std::string>{"id", "Region Code", "status"});
  CHECK(view.key == std::vector<std::string>{"id", "Region Code"});

  REQUIRE(plan.waivers.size() == 1);
  CHECK(plan.waivers[0].service == "fulfillment");
  CHECK(plan.waivers[0].table == QualifiedName{"public", "orders"});
  CHECK(plan.waivers[0].reason == "status write-back until ShipmentDispatched is consumed");

  CHECK(plan.revoke.deprecation_window == "36h");
  CHECK_FALSE(plan.revoke.require_compare);
  CHECK(plan.revoke.mode == "observe");
  CHECK(plan.split.mode == "database");
  CHECK(plan.split.allow_unqualified);
  CHECK(plan.split.on_cutover == "./switch-dsn.sh");
  CHECK(plan.selftest.kinds == std::vector<std::string>{"index", "comment"});
}

TEST_CASE("lookups find services, tables, events and the service of a role", "[plan]") {
  Plan plan = parsePlan(kFullPlan, "/plans/shop.toml");
  REQUIRE(plan.findService("orders"));
  CHECK(plan.findService("orders")->roles.size() == 2);
  CHECK_FALSE(plan.findService("billing"));
  REQUIRE(plan.findTable({"public", "Café Ünïcode"}));
  CHECK(plan.findTable({"public", "Café Ünïcode"})->owner == "fulfillment");
  CHECK_FALSE(plan.findTable({"public", "café ünïcode"}));
  REQUIRE(plan.findEvent({"Sales Dept", "Order \"Items\""}));
  CHECK(plan.findEvent({"Sales Dept", "Order \"Items\""})->aggregate_type == "order_item");
  CHECK_FALSE(plan.findEvent({"public", "Café Ünïcode"}));
  REQUIRE(plan.serviceOfRole("Orders Reporter"));
  CHECK(plan.serviceOfRole("Orders Reporter")->name == "orders");
  CHECK(plan.serviceOfRole("fulfillment_app")->name == "fulfillment");
  CHECK_FALSE(plan.serviceOfRole("orders reporter"));
}

TEST_CASE("a minimal plan gets every default", "[plan]") {
  Plan plan = parsePlan(kMinimalPlan, "/srv/dbsplit.toml");
  CHECK(plan.migration.database.empty());
  CHECK(plan.migration.journal == "/srv/.dbsplit/tiny.db");
  CHECK(plan.services.empty());
  CHECK(plan.tables.empty());
  CHECK(plan.revoke.deprecation_window == "7d");
  CHECK(plan.revoke.require_compare);
  CHECK(plan.revoke.mode == "enforce");
  CHECK(plan.split.mode == "schema");
  CHECK_FALSE(plan.split.allow_unqualified);
  CHECK(plan.split.on_cutover.empty());
  CHECK(plan.selftest.kinds.empty());
}

TEST_CASE("the journal path resolves against the plan's directory", "[plan]") {
  TempDir dir;
  fs::create_directories(dir.path / "plans");
  fs::path file = dir.path / "plans" / "dbsplit.toml";

  SECTION("default beside the plan") {
    writeFile(file, kMinimalPlan);
    Plan plan = dbsplit::plan::loadPlan(file.string());
    CHECK(plan.file == file.string());
    CHECK(plan.migration.journal == (dir.path / "plans" / ".dbsplit" / "tiny.db").string());
  }
  SECTION("relative path") {
    writeFile(file, std::string(kMinimalPlan) + "journal = \"../state/j.db\"\n");
    Plan plan = dbsplit::plan::loadPlan(file.string());
    CHECK(plan.migration.journal == (dir.path / "state" / "j.db").string());
  }
  SECTION("absolute path is kept") {
    writeFile(file, std::string(kMinimalPlan) + "journal = \"/var/lib/dbsplit/j.db\"\n");
    CHECK(dbsplit::plan::loadPlan(file.string()).migration.journal == "/var/lib/dbsplit/j.db");
  }
  SECTION("a relative plan path still gives absolute paths") {
    writeFile(file, kMinimalPlan);
    Plan plan;
    {
      CurrentDir in(dir.path);
      plan = dbsplit::plan::loadPlan("plans/dbsplit.toml");
    }
    CHECK(plan.file == file.string());
    CHECK(plan.migration.journal == (dir.path / "plans" / ".dbsplit" / "tiny.db").string());
  }
}

TEST_CASE("a journal path starting with ~/ is under the home directory", "[plan]") {
  const char* old = std::getenv("HOME");
  std::optional<std::string> previous;
  if (old) previous = old;
  setenv("HOME", "/home/dba", 1);
  Plan plan = parsePlan(std::string(kMinimalPlan) + "journal = \"~/j/shop.db\"\n", "/p/x.toml");
  if (previous) {
    setenv("HOME", previous->c_str(), 1);
  } else {
    unsetenv("HOME");
  }
  CHECK(plan.migration.journal == "/home/dba/j/shop.db");
}

TEST_CASE("inline tables and arrays of inline tables are accepted", "[plan]") {
  Plan plan = parsePlan(R"(
migration = { name = "inline" }
service = [ { name = "orders", roles = ["o"] }, { name = "billing" } ]
table = [ { name = "public.orders", owner = "orders" } ]
step = { revoke = { mode = "observe" } }
)",
                        "/p/plan.toml");
  CHECK(plan.migration.name == "inline");
  REQUIRE(plan.services.size() == 2);
  CHECK(plan.services[1].name == "billing");
  CHECK(plan.tables.at(0).owner == "orders");
  CHECK(plan.revoke.mode == "observe");
}
