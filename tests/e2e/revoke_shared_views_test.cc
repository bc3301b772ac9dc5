// Shared views and functions at step 5 (issue #17 item 4): a view over two
// services' tables that a consumer reads blocks revoke until the plan decides;
// a [[view]] rebuilt by step 4 over the consumer's projections keeps the
// consumer reading after revoke (and rollback gives every ACL back); a kept
// view keeps its readers; a function read across needs its own decision.
// The view's name has a space and capitals.
#include "catch2/catch.hpp"
#include "sql/quote.h"
#include "support/revoke_fixture.h"
#include "support/scenario.h"

using namespace dbsplit::test;
using dbsplit::sql::quoteIdent;

namespace {

const char* kRebuild = R"TOML(
[[view]]
name = 'public."Order Shipments"'
decision = "rebuild"
service = "@consumer@"
query = "SELECT v.id, v.status FROM @consumer@.order_view v"
)TOML";

const char* kViewRead = "SELECT id, status FROM public.\"Order Shipments\";\n";

// The view over the owner's orders and the consumer's shipments, readable by
// the consumer's login role; and a function over the owner's orders.
void addSharedObjects(RevokeScenario& r) {
  const std::string ful = quoteIdent(r.role("ful_app"));
  r.db().exec(
      "CREATE VIEW public.\"Order Shipments\" AS\n"
      "  SELECT o.id, o.status, s.id AS shipment FROM public.orders o\n"
      "  LEFT JOIN public.shipments s ON s.order_id = o.id;\n"
      "GRANT SELECT ON public.\"Order Shipments\" TO " +
      ful +
      ";\n"
      "CREATE FUNCTION public.order_status(bigint) RETURNS text LANGUAGE sql STABLE\n"
      "  AS 'SELECT status FROM public.orders WHERE id = $1';\n");
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Ready for revoke: the window passed, the relay started, compare clean.
void readyForRevoke(RevokeScenario& r) {
  r.advanceToRevoke();
  r.waitWindow();
  r.addRelayStart();
  r.addCompare(true);
}

}  // namespace

TEST_CASE("revoke: a view over two services that a consumer reads blocks until the plan decides",
          "[revoke][shared][pg]") {
  RevokeScenario r("deprecation_window = \"1s\"", kOrderViewProjection);
  addSharedObjects(r);
  r.setConsumerSql(kViewRead);
  readyForRevoke(r);
  const std::string before = r.db().schemaDump();

  // The catalogue names it as shared surface, in text and in JSON.
  CliResult text = r.cli({"catalogue"});
  INFO(text.out << text.err);
  CHECK(has(text.out, "shared views and functions (1)"));
  CHECK(has(text.out, "public.Order Shipments  spans " + r.consumer() + ", " + r.owner()));
  CliResult json = r.cli({"catalogue", "--json"});
  auto events = eventsOf(jsonLines(json.out), "catalogue");
  REQUIRE(events.size() == 1);
  REQUIRE(events[0]["shared"].size() == 1);
  CHECK(events[0]["shared"][0]["name"] == "public.Order Shipments");
  CHECK(events[0]["shared"][0]["crossing"][0] == r.consumer());

  CliResult run = r.cli({"run", "revoke", "--yes", "--json"});
  INFO(run.out << run.err);
  CHECK(run.exit_code == 3);
  auto g = gatesOf(run);
  CHECK_FALSE(g["shared_objects"].first);
  CHECK(has(g["shared_objects"].second, "view public.Order Shipments (spans " + r.consumer() +
                                            ", " + r.owner() + "), read across by " + r.consumer() +
                                            ": no decision"));
  CHECK(has(g["shared_objects"].second, "decision = \"rebuild\" (service = \"" + r.consumer()));
  CHECK(r.db().schemaDump() == before);
}

TEST_CASE(
    "revoke: a view rebuilt by step 4 over the consumer's projections reads after revoke, and "
    "rollback gives every ACL back",
    "[revoke][shared][pg]") {
  RevokeScenario r("deprecation_window = \"1s\"", std::string(kOrderViewProjection) + kRebuild);
  addSharedObjects(r);
  r.setConsumerSql(kViewRead);
  readyForRevoke(r);
  const std::string consumer = quoteIdent(r.consumer());
  const std::string copy = consumer + ".\"Order Shipments\"";
  const std::string ful = r.role("ful_app");
  // Step 4 made the copy, the consumer's group owns it, and it has the orders.
  CHECK(r.db().scalar("SELECT relowner::regrole::text FROM pg_class WHERE oid = '" + copy +
                      "'::regclass") == r.consumer());
  CHECK(r.db().scalar("SELECT count(*) FROM " + copy) ==
        r.db().scalar("SELECT count(*) FROM public.orders"));
  CHECK(r.sqlstateAs(ful, "SELECT id, status FROM " + copy).empty());
  const std::string acls = r.aclState();
  const std::string dump = r.db().schemaDump();

  CliResult run = r.cli({"run", "revoke", "--yes", "--json"});
  INFO(run.out << run.err);
  REQUIRE(run.exit_code == 0);
  CHECK(gatesOf(run)["shared_objects"].first);
  CHECK(has(gatesOf(run)["shared_objects"].second, "rebuilt for " + r.consumer()));
  // The consumer reads its copy; the shared view is gone for it.
  CHECK(r.sqlstateAs(ful, "SELECT id, status FROM " + copy).empty());
  CHECK(r.sqlstateAs(ful, kViewRead) == "42501");

  CliResult rb = r.cli({"rollback", "revoke", "--yes"});
  INFO(rb.out << rb.err);
  REQUIRE(rb.exit_code == 0);
  CHECK(r.aclState() == acls);
  CHECK(r.db().schemaDump() == dump);
  CHECK(r.sqlstateAs(ful, kViewRead).empty());

  // Step 4's rollback drops the copy with the projections.
  REQUIRE(r.cli({"rollback", "projections", "--yes"}).exit_code == 0);
  CHECK(r.db().scalar("SELECT to_regclass('" + copy + "') IS NULL") == "t");
}

TEST_CASE(
    "revoke: a kept view keeps its readers, and a function read across blocks until decided, "
    "then fails for them",
    "[revoke][shared][pg]") {
  RevokeScenario r("deprecation_window = \"1s\"",
                   std::string(kOrderViewProjection) +
                       "[[view]]\nname = 'public.\"Order Shipments\"'\ndecision = \"keep\"\n"
                       "reason = \"the nightly report\"\n");
  addSharedObjects(r);
  r.setConsumerSql(std::string(kViewRead) + "SELECT public.order_status(1);\n");
  readyForRevoke(r);
  const std::string ful = r.role("ful_app");

  CliResult blocked = r.cli({"run", "revoke", "--yes", "--json"});
  INFO(blocked.out << blocked.err);
  CHECK(blocked.exit_code == 3);
  const std::string evidence = gatesOf(blocked)["shared_objects"].second;
  CHECK(has(evidence, "function public.order_status (spans " + r.owner() + "), read across by " +
                          r.consumer() + ": no decision"));
  CHECK_FALSE(has(evidence, "Order Shipments"));  // decided: kept

  // A [[function]] decision opens the gate without being drift: no step's input.
  r.s().dir().write("dbsplit.toml", readFile(r.s().planPath()) +
                                        "\n[[function]]\nname = \"public.order_status\"\n"
                                        "decision = \"revoke\"\n");
  CliResult run = r.cli({"run", "revoke", "--yes", "--json"});
  INFO(run.out << run.err);
  REQUIRE(run.exit_code == 0);
  CHECK(has(gatesOf(run)["shared_objects"].second,
            "view public.Order Shipments (spans " + r.consumer() + ", " + r.owner() +
                "), read across by " + r.consumer() + ": kept (the nightly report)"));
  CHECK(r.sqlstateAs(ful, kViewRead).empty());  // kept
  CHECK(r.sqlstateAs(ful, "SELECT public.order_status(1)") == "42501");
}
