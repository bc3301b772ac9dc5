// `dbsplit plan ownership --format markdown|json`: the owned-data table of
// seed 001 (service, tables, consumers), from the plan alone.
#include "catch2/catch.hpp"
#include "nlohmann/json.hpp"
#include "sql/template.h"
#include "support/pg_test.h"

using namespace dbsplit::test;

TEST_CASE("plan ownership prints the owned-data table of seed 001 as Markdown and JSON",
          "[ownership]") {
  TempDir dir;
  dir.write("dbsplit.toml", dbsplit::sql::playbookText("ecommerce.toml"));
  CliResult md =
      runCli({"--plan", dir.file("dbsplit.toml"), "plan", "ownership", "--format", "markdown"});
  INFO(md.out << md.err);
  REQUIRE(md.exit_code == 0);
  CHECK(md.out ==
        "| Service | Tables | Consumers |\n"
        "|---|---|---|\n"
        "| catalog | public.categories, public.products | cart (projection product_view of "
        "public.products), orders (projection product_view of public.products) |\n"
        "| cart | public.carts, public.cart_items | -- |\n"
        "| orders | public.orders, public.order_items | payments (projection order_view of "
        "public.orders), inventory (projection order_item_view of public.order_items), "
        "fulfillment (projection order_view of public.orders; projection order_item_view of "
        "public.order_items) |\n"
        "| payments | public.payment_attempts, public.refunds | -- |\n"
        "| inventory | public.stock_items, public.reservations | -- |\n"
        "| fulfillment | public.shipments, public.packaging_rules | orders (projection "
        "shipment_view of public.shipments) |\n"
        "\n");

  CliResult js =
      runCli({"--plan", dir.file("dbsplit.toml"), "plan", "ownership", "--format", "json"});
  INFO(js.out << js.err);
  REQUIRE(js.exit_code == 0);
  nlohmann::json t = nlohmann::json::parse(js.out);
  REQUIRE(t["services"].size() == 6);
  CHECK(t["services"][2]["service"] == "orders");
  CHECK(t["services"][2]["consumers"][2]["service"] == "fulfillment");
  CHECK(t["services"][2]["waived_writers"][0]["table"] == "public.orders");

  CliResult wrong =
      runCli({"--plan", dir.file("dbsplit.toml"), "plan", "catalogue", "--format", "markdown"});
  CHECK(wrong.exit_code == 2);
}
