// Views in the ownership step: a view (or materialized view) that reads only
// one service's tables, directly or through other views, follows them to the
// service's group; a view mixing services' (or unplanned) tables stays with
// its owner and is named in the plan. Rollback restores owners and ACLs
// exactly (pg_dump --schema-only byte-identical).
#include "catch2/catch.hpp"
#include "sql/quote.h"
#include "support/ownership_fixture.h"
#include "support/scenario.h"

using namespace dbsplit::test;

namespace {

using dbsplit::sql::quoteIdent;

// Views over the fixture's tables plus a table of the consumer service.
void addViews(OwnershipScenario& s) {
  const std::string legacy = quoteIdent(s.role("legacy"));
  const std::string ful = quoteIdent(s.role("ful_app"));
  s.db().exec(
      "CREATE TABLE public.shipments (id int PRIMARY KEY, order_id bigint);\n"
      // One service's table, owned by a role outside the service, with an
      // explicit ACL: PUBLIC reads, a grant option, a column grant.
      "CREATE VIEW public.item_qty AS SELECT order_id, qty FROM public.order_items;\n"
      "ALTER VIEW public.item_qty OWNER TO " +
      legacy +
      ";\n"
      "GRANT SELECT ON public.item_qty TO PUBLIC;\n"
      "GRANT SELECT ON public.item_qty TO " +
      ful +
      " WITH GRANT OPTION;\n"
      "GRANT UPDATE (qty) ON public.item_qty TO " +
      ful +
      ";\n"
      // Over another view of the same service; NULL ACL, owned by legacy.
      "CREATE VIEW public.big_items AS SELECT * FROM public.item_qty WHERE qty > 10;\n"
      "ALTER VIEW public.big_items OWNER TO " +
      legacy +
      ";\n"
      // A materialized view of one service, owned by the superuser.
      "CREATE MATERIALIZED VIEW public.order_count AS SELECT count(*) AS n FROM public.orders;\n"
      "GRANT SELECT ON public.order_count TO " +
      ful +
      ";\n"
      // Two services' tables.
      "CREATE VIEW public.order_shipments AS\n"
      "  SELECT o.id, s.id AS shipment FROM public.orders o JOIN public.shipments s\n"
      "    ON s.order_id = o.id;\n"
      "GRANT SELECT ON public.order_shipments TO PUBLIC;\n");
  s.writePlan(ownershipTables(),
              "[[table]]\nname = \"public.shipments\"\nowner = \"" + s.consumer() + "\"\n\n");
}

}  // namespace

TEST_CASE("ownership moves views over one service's tables and rolls them back exactly",
          "[ownership][pg]") {
  OwnershipScenario s;
  addViews(s);
  TestDb& db = s.db();
  const std::string original = db.schemaDump();
  const std::string acls = s.aclState();
  s.runCatalogue();

  CliResult dry = s.cli({"run", "ownership", "--dry-run"});
  INFO(dry.out << dry.err);
  REQUIRE(dry.exit_code == 0);
  CHECK(dry.out.find("ALTER MATERIALIZED VIEW \"public\".\"order_count\"\n  OWNER TO") !=
        std::string::npos);
  CHECK(dry.out.find("ALTER VIEW \"public\".\"item_qty\"\n  OWNER TO") != std::string::npos);
  CHECK(dry.out.find("ownership/view/public.order_shipments") == std::string::npos);
  CHECK(dry.out.find("views left to their owner: public.order_shipments") != std::string::npos);
  // After every table's action; inner views before the views over them.
  const size_t last_table = dry.out.rfind("-- ownership/table/");
  const size_t inner = dry.out.find("-- ownership/view/public.item_qty");
  const size_t outer = dry.out.find("-- ownership/view/public.big_items");
  CHECK(last_table < inner);
  CHECK(inner < outer);
  CHECK(db.schemaDump() == original);

  CliResult run = s.cli({"run", "ownership"});
  INFO(run.out << run.err);
  REQUIRE(run.exit_code == 0);
  const std::string g = s.owner();
  auto ownerOf = [&](const std::string& rel) {
    return db.scalar("SELECT relowner::regrole::text FROM pg_class WHERE oid = '" + rel +
                     "'::regclass");
  };
  CHECK(ownerOf("public.item_qty") == g);
  CHECK(ownerOf("public.big_items") == g);
  CHECK(ownerOf("public.order_count") == g);
  CHECK(ownerOf("public.order_shipments") != g);
  CHECK(ownerOf("public.order_totals") == g);  // the fixture's view over public.orders
  // Reads stay: grants on the view (grant options included), and the old owner's.
  CHECK(db.scalar("SELECT has_table_privilege('public', 'public.item_qty', 'SELECT')") == "t");
  CHECK(db.scalar("SELECT has_table_privilege('" + s.role("legacy") +
                  "', 'public.big_items', 'SELECT')") == "t");
  // Writes through a moved view are the owner's alone, as on its tables.
  CHECK(db.scalar("SELECT has_column_privilege('" + s.role("ful_app") +
                  "', 'public.item_qty', 'qty', 'UPDATE')") == "f");
  CHECK(db.scalar("SELECT count(*) FROM public.big_items") == "0");
  CHECK(db.schemaDump() != original);

  CliResult rb = s.cli({"rollback", "ownership"});
  INFO(rb.out << rb.err);
  REQUIRE(rb.exit_code == 0);
  CHECK(s.aclState() == acls);
  CHECK(db.schemaDump() == original);

  REQUIRE(s.cli({"run", "ownership"}).exit_code == 0);
  REQUIRE(s.cli({"rollback", "ownership"}).exit_code == 0);
  CHECK(db.schemaDump() == original);
  CHECK(s.aclState() == acls);
}
