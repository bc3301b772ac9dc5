// The revoke step through the engine's lifecycle on the ownership fixture
// (grants to PUBLIC, grant options and a non-owner grantor, column grants on a
// table whose relacl is NULL, a partitioned table, identity and serial
// sequences, a view, schema USAGE, default privileges, hostile identifiers):
// dry-run and rehearse change nothing, apply severs the consumer's reads and
// leaves the owner's and the consumer's own, rollback restores pg_dump and
// every ACL exactly, and a fault at every action boundary then resume ends
// like a clean run.
#include "catch2/catch.hpp"
#include "support/revoke_fixture.h"
#include "support/scenario.h"

using namespace dbsplit::test;

namespace {

std::vector<std::string> actionIds(const RevokeScenario& r) {
  std::vector<std::string> ids;
  CliResult p = r.cli({"plan", "revoke", "--json"});
  for (const auto& a : eventsOf(jsonLines(p.out), "action")) ids.push_back(a["id"]);
  return ids;
}

}  // namespace

TEST_CASE("revoke severs the consumer's reads and rollback restores every ACL exactly",
          "[revoke][pg]") {
  RevokeScenario r;
  r.advanceToRevoke();
  r.waitWindow();
  const std::string ful_app = r.role("ful_app"), orders_app = r.role("orders_app");
  const std::string consumer_view = "SELECT * FROM \"" + r.consumer() + "\".order_copy";
  REQUIRE(r.sqlstateAs(ful_app, "SELECT * FROM public.orders").empty());
  const std::string before = r.db().schemaDump();
  const std::string acl = r.aclState();
  const std::string journal = fileSha256(r.s().journalPath());

  CliResult dry = r.cli({"run", "revoke", "--dry-run"});
  INFO(dry.out << dry.err);
  REQUIRE(dry.exit_code == 0);
  CHECK(dry.out.find("revoke/owner/" + r.owner()) != std::string::npos);
  CHECK(dry.out.find(R"(ON TABLE "Sales Dept"."Order ""Items""")") == std::string::npos);
  CHECK(dry.out.find(R"(REVOKE ALL ("ключ"))") != std::string::npos);  // relacl stays NULL
  CHECK(r.db().schemaDump() == before);
  CHECK(fileSha256(r.s().journalPath()) == journal);

  // GRANT and REVOKE lock no table: the rehearsal sees no relation lock.
  CliResult rehearse = r.cli({"run", "revoke", "--rehearse", "--json"});
  INFO(rehearse.out << rehearse.err);
  REQUIRE(rehearse.exit_code == 0);
  auto rehearsals = eventsOf(jsonLines(rehearse.out), "rehearsal");
  REQUIRE(rehearsals.size() == 2);  // one action per owning service
  for (const auto& ev : rehearsals) {
    for (const auto& l : ev["locks"]) {
      // Only default-privilege entries (dropped when emptied), never a table.
      CHECK(l.get<std::string>().find(" on object") != std::string::npos);
    }
  }
  CHECK(r.db().schemaDump() == before);

  // Destructive: without a terminal it needs --yes.
  CliResult unconfirmed = r.cli({"run", "revoke"});
  CHECK(unconfirmed.exit_code == 5);
  CHECK(r.db().schemaDump() == before);

  CliResult run = r.cli({"run", "revoke", "--yes", "--json"});
  INFO(run.out << run.err);
  REQUIRE(run.exit_code == 0);
  for (const auto& g : eventsOf(jsonLines(run.out), "gate")) CHECK(g["passed"] == true);
  CHECK(r.stepStatus("revoke") == "applied");

  // The consumer lost every way in: table, column grant on a NULL-relacl
  // table, view, sequence, the owner's schema.
  CHECK(r.sqlstateAs(ful_app, "SELECT * FROM public.orders") == "42501");
  CHECK(r.sqlstateAs(ful_app, "SELECT total FROM public.orders") == "42501");
  CHECK(r.sqlstateAs(ful_app, "SELECT \"ключ\" FROM public.\"Tëst ünïcode\"") == "42501");
  CHECK(r.sqlstateAs(ful_app, "SELECT * FROM public.order_totals") == "42501");
  CHECK(r.sqlstateAs(ful_app, "SELECT * FROM public.order_items") == "42501");
  CHECK(r.sqlstateAs(ful_app, "SELECT * FROM public.events") == "42501");
  CHECK(r.sqlstateAs(ful_app, "SELECT nextval('public.order_items_id_seq')") == "42501");
  CHECK(r.db().scalar("SELECT has_schema_privilege('" + ful_app + "', '" + r.owner() +
                      "', 'USAGE')") == "f");
  // No default privilege of the owner's roles gives anything to the consumer or PUBLIC.
  CHECK(r.db().scalar("SELECT count(*) FROM pg_default_acl d, aclexplode(d.defaclacl) x"
                      " WHERE d.defaclrole IN (SELECT oid FROM pg_roles WHERE rolname IN ('" +
                      r.owner() + "', '" + orders_app +
                      "')) AND (x.grantee = 0 OR x.grantee IN "
                      "(SELECT oid FROM pg_roles WHERE rolname IN ('" +
                      r.consumer() + "', '" + ful_app + "')))") == "0");
  // The other way round too: the owner's login role lost the consumer's table.
  CHECK(r.sqlstateAs(orders_app, "SELECT * FROM public.shipments") == "42501");
  CHECK(r.sqlstateAs(ful_app, "SELECT * FROM public.shipments").empty());
  // Its own data and the owner are unaffected.
  CHECK(r.sqlstateAs(ful_app, consumer_view).empty());
  CHECK(r.sqlstateAs(orders_app, "SELECT * FROM public.orders").empty());
  CHECK(r.sqlstateAs(orders_app, "INSERT INTO public.order_items (order_id, qty) VALUES (1, 1)")
            .empty());
  CHECK(r.sqlstateAs(orders_app, "SELECT * FROM public.order_totals").empty());
  // A role of no service keeps its own grant (the legacy owner's SELECT).
  CHECK(r.sqlstateAs(r.role("legacy"), R"(SELECT * FROM "Sales Dept"."Order ""Items""")").empty());

  CliResult rb = r.cli({"rollback", "revoke"});  // the emergency button asks nothing
  INFO(rb.out << rb.err);
  REQUIRE(rb.exit_code == 0);
  CHECK(r.db().schemaDump() == before);
  CHECK(r.aclState() == acl);
  CHECK(r.sqlstateAs(ful_app, "SELECT * FROM public.orders").empty());

  REQUIRE(r.cli({"run", "revoke", "--yes"}).exit_code == 0);
  REQUIRE(r.cli({"rollback", "revoke"}).exit_code == 0);
  CHECK(r.db().schemaDump() == before);
  CHECK(r.aclState() == acl);
}

TEST_CASE("a fault at every revoke action boundary, then resume, ends like a clean run",
          "[revoke][pg][slow]") {
  RevokeScenario r;
  r.advanceToRevoke();
  r.waitWindow();
  const std::string original = r.db().schemaDump();
  const std::string acl = r.aclState();
  const std::vector<std::string> ids = actionIds(r);
  REQUIRE(ids ==
          std::vector<std::string>{"revoke/owner/" + r.owner(), "revoke/owner/" + r.consumer()});
  REQUIRE(r.cli({"run", "revoke", "--yes"}).exit_code == 0);
  const std::string applied = r.db().schemaDump();
  REQUIRE(r.cli({"rollback", "revoke"}).exit_code == 0);
  REQUIRE(r.db().schemaDump() == original);

  for (const std::string& id : ids) {
    for (const std::string point : {"before", "after"}) {
      INFO("fault " << id << ":" << point);
      CliResult crash = r.cli({"run", "revoke", "--yes"}, {{"DBSPLIT_FAULT", id + ":" + point}});
      REQUIRE(crash.exit_code == 128 + 9);
      CHECK(r.stepStatus("revoke") == "applying");
      CliResult resume = r.cli({"resume"});
      INFO(resume.out << resume.err);
      REQUIRE(resume.exit_code == 0);
      CHECK(r.db().schemaDump() == applied);
      CHECK(r.stepStatus("revoke") == "applied");

      // The same fault while rolling back, then resume finishes the rollback.
      CliResult crash_rb = r.cli({"rollback", "revoke"}, {{"DBSPLIT_FAULT", id + ":" + point}});
      REQUIRE(crash_rb.exit_code == 128 + 9);
      CliResult resume_rb = r.cli({"resume"});
      INFO(resume_rb.out << resume_rb.err);
      REQUIRE(resume_rb.exit_code == 0);
      CHECK(r.db().schemaDump() == original);
      CHECK(r.aclState() == acl);
    }
  }
}
