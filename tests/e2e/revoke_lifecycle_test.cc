// The revoke step through the lifecycle harness (support/lifecycle.h) on the
// ownership fixture (grants to PUBLIC, grant options and a non-owner grantor,
// column grants on a table whose relacl is NULL, a partitioned table, identity
// and serial sequences, a view, schema USAGE, default privileges, hostile
// identifiers): dry-run and rehearse change nothing, apply severs the
// consumer's reads and leaves the owner's and the consumer's own, rollback
// restores pg_dump and every ACL exactly, and a fault at every action boundary
// then resume ends like a clean run.
#include "catch2/catch.hpp"
#include "support/lifecycle.h"
#include "support/revoke_fixture.h"
#include "support/scenario.h"

using namespace dbsplit::test;

namespace {

// The lifecycle below, as the superuser or as a managed admin (support/pg_test.h).
void revokeLifecycle(bool managed) {
  if (managed) useAdmin(Admin::kManaged);
  Lifecycle<RevokeScenario> c;
  c.step = "revoke";
  c.apply_asks = true;              // destructive: without a terminal it needs --yes
  c.status_tells_committed = true;  // transactional actions in one database
  c.build = [] {
    auto r = std::make_unique<RevokeScenario>();
    r->advanceToRevoke();
    r->waitWindow();
    return r;
  };
  c.state = [](RevokeScenario& r) { return r.aclState(); };
  c.actions = [](RevokeScenario& r, const std::vector<std::string>& ids) {
    REQUIRE(ids ==
            std::vector<std::string>{"revoke/owner/" + r.owner(), "revoke/owner/" + r.consumer()});
  };
  c.dry_run = [](RevokeScenario& r, const CliResult& dry) {
    CHECK(dry.out.find("revoke/owner/" + r.owner()) != std::string::npos);
    CHECK(dry.out.find(R"(ON TABLE "Sales Dept"."Order ""Items""")") == std::string::npos);
    CHECK(dry.out.find(R"(REVOKE ALL ("ключ"))") != std::string::npos);  // relacl stays NULL
  };
  // GRANT and REVOKE lock no table: the rehearsal sees no relation lock.
  c.rehearse = [](RevokeScenario&, const CliResult& rehearse) {
    auto rehearsals = eventsOf(jsonLines(rehearse.out), "rehearsal");
    REQUIRE(rehearsals.size() == 2);  // one action per owning service
    for (const auto& ev : rehearsals) {
      for (const auto& l : ev["locks"]) {
        // Only default-privilege entries (dropped when emptied), never a table.
        CHECK(l.get<std::string>().find(" on object") != std::string::npos);
      }
    }
  };
  c.before_apply = [](RevokeScenario& r) {
    REQUIRE(r.sqlstateAs(r.role("ful_app"), "SELECT * FROM public.orders").empty());
    const std::string before = r.db().schemaDump();
    CliResult unconfirmed = r.cli({"run", "revoke"});
    CHECK(unconfirmed.exit_code == 5);
    CHECK(r.db().schemaDump() == before);
  };
  c.apply = [](RevokeScenario&, const CliResult& run) {
    for (const auto& g : eventsOf(jsonLines(run.out), "gate")) CHECK(g["passed"] == true);
  };
  c.applied = [](RevokeScenario& r) {
    const std::string ful_app = r.role("ful_app"), orders_app = r.role("orders_app");
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
    CHECK(r.sqlstateAs(ful_app, "SELECT * FROM \"" + r.consumer() + "\".order_copy").empty());
    CHECK(r.sqlstateAs(orders_app, "SELECT * FROM public.orders").empty());
    CHECK(r.sqlstateAs(orders_app, "INSERT INTO public.order_items (order_id, qty) VALUES (1, 1)")
              .empty());
    CHECK(r.sqlstateAs(orders_app, "SELECT * FROM public.order_totals").empty());
    // A role of no service keeps its own grant (the legacy owner's SELECT).
    CHECK(
        r.sqlstateAs(r.role("legacy"), R"(SELECT * FROM "Sales Dept"."Order ""Items""")").empty());
  };
  // The emergency button asks nothing (the harness rolls back without --yes).
  c.rolled_back = [](RevokeScenario& r, const CliResult&) {
    CHECK(r.sqlstateAs(r.role("ful_app"), "SELECT * FROM public.orders").empty());
  };
  // The same fault while rolling back, then resume finishes the rollback.
  c.rollback_fault = [](RevokeScenario&, const std::string&) { return true; };
  if (managed) c.recovery = Recovery::kAlternate;  // both ways out, in half the time
  runLifecycle(c);
}

}  // namespace

TEST_CASE(
    "revoke severs the consumer's reads, and rollback, also after a fault at every action "
    "boundary, restores every ACL exactly",
    "[revoke][pg][slow]") {
  revokeLifecycle(false);
}

TEST_CASE(
    "revoke as a managed admin (no superuser) severs the consumer's reads, and rollback, also "
    "after a fault at every action boundary, restores every ACL exactly",
    "[revoke][pg][slow][managed]") {
  revokeLifecycle(true);
}
