// dbsplit as a managed service's admin (support/pg_test.h: CREATEROLE,
// CREATEDB, REPLICATION, pg_read_all_stats, owner of the database; no
// superuser). The steps' lifecycles as that role are in each step's own test
// file ("... as a managed admin ..."); here: each privilege it may lack is
// named by its own gate with the statement that grants it, exit 3, and
// nothing changes; database mode is refused where PostgreSQL 15 needs a
// superuser for the subscription.
#include <regex>

#include "catch2/catch.hpp"
#include "sql/quote.h"
#include "support/ownership_fixture.h"
#include "support/scenario.h"
#include "support/split_fixture.h"

using namespace dbsplit::test;

namespace {

using dbsplit::sql::quoteIdent;

// Runs `args` and checks the refusal: exit 3, `needle` said, nothing changed.
void checkRefused(const CliResult& r, const std::string& before, const std::string& after,
                  const std::vector<std::string>& needles) {
  INFO(r.out << r.err);
  CHECK(r.exit_code == 3);
  for (const auto& n : needles) CHECK((r.out + r.err).find(n) != std::string::npos);
  CHECK(after == before);
}

}  // namespace

TEST_CASE("a managed admin without CREATEROLE is told so by its own gate, and nothing changes",
          "[ownership][pg][managed]") {
  useAdmin(Admin::kManaged);
  OwnershipScenario s;
  s.runCatalogue();
  TestDb& db = s.db();
  connect(db.superDsn())->exec("ALTER ROLE " + quoteIdent(db.adminRole()) + " NOCREATEROLE");
  const std::string before = db.schemaDump();
  CliResult r = s.cli({"run", "ownership"});
  checkRefused(r, before, db.schemaDump(),
               {"createrole", "has no CREATEROLE",
                "ALTER ROLE " + quoteIdent(db.adminRole()) + " CREATEROLE",
                // and the roles it would have joined itself
                "GRANT " + quoteIdent(s.role("legacy")) + " TO " + quoteIdent(db.adminRole())});
  CHECK(db.scalar("SELECT count(*) FROM pg_roles WHERE rolname = '" + s.owner() + "'") == "0");
}

TEST_CASE(
    "a managed admin cannot take over a superuser's table: the memberships gate says what to do, "
    "and nothing changes",
    "[ownership][pg][managed]") {
  useAdmin(Admin::kManaged);
  OwnershipScenario s;
  TestDb& db = s.db();
  connect(db.superDsn())->exec("CREATE TABLE public.\"Super Owned\" (id int PRIMARY KEY)");
  std::vector<std::string> tables = ownershipTables();
  tables.push_back("public.\"Super Owned\"");
  s.writePlan(tables);
  s.runCatalogue();
  const std::string before = db.schemaDump();
  CliResult r = s.cli({"run", "ownership"});
  checkRefused(r, before, db.schemaDump(),
               {"memberships", "postgres is a superuser: a managed admin can never act as it"});
}

TEST_CASE(
    "a managed admin outside pg_read_all_stats is stopped before the catalogue reads "
    "pg_stat_statements",
    "[catalogue][pg][managed]") {
  useAdmin(Admin::kManaged);
  OwnershipScenario s;
  TestDb& db = s.db();
  connect(db.superDsn())->exec("REVOKE pg_read_all_stats FROM " + quoteIdent(db.adminRole()));
  std::string plan = readFile(s.planPath());
  plan = std::regex_replace(plan, std::regex("sources = \\[[^\\]]*\\]"),
                            "sources = [\"pg_stat_statements\"]");
  s.dir().write("dbsplit.toml", plan);
  const std::string before = db.schemaDump();
  CliResult r = s.cli({"run", "catalogue"});
  checkRefused(r, before, db.schemaDump(),
               {"read_all_stats", "GRANT pg_read_all_stats TO " + quoteIdent(db.adminRole())});
  CHECK(stepStatusOf([&s](const std::vector<std::string>& a) { return s.cli(a); },
                     "catalogue")["status"] != "applied");
}

TEST_CASE(
    "database mode as a managed admin: the subscription and REPLICATION gates name what is "
    "missing, and nothing changes",
    "[split][pg][managed]") {
  useAdmin(Admin::kManaged);
  SplitScenario s{{"orders"},
                  "CREATE TABLE public.orders (id bigint PRIMARY KEY, note text);\n",
                  "[[table]]\nname = \"public.orders\"\nowner = \"@orders@\"\n",
                  {{"orders", {"app"}}}};
  const std::string target = s.extraDatabase("orders_db", false);
  s.setServiceDatabase("orders", s.roleDsn(s.db().adminRole(), target));
  s.setPlanExtra("[step.split]\nmode = \"database\"\n");
  s.advanceTo("split");  // steps 1 to 5 as the managed admin
  TestDb& db = s.db();
  const std::string before = db.schemaDump();
  auto targets = [&] {
    return db.scalar("SELECT count(*) FROM pg_database WHERE datname = '" + target + "'");
  };
  SECTION("PostgreSQL 15 creates subscriptions for superusers only") {
    CliResult r = s.cli({"run", "split"});
    checkRefused(r, before, db.schemaDump(),
                 {"target_database", "needs a superuser there on PostgreSQL 15", "rds_superuser"});
    CHECK(targets() == "0");
  }
  SECTION("without REPLICATION") {
    connect(db.superDsn())->exec("ALTER ROLE " + quoteIdent(db.adminRole()) + " NOREPLICATION");
    CliResult r = s.cli({"run", "split"});
    checkRefused(
        r, before, db.schemaDump(),
        {"replication_privilege", "ALTER ROLE " + quoteIdent(db.adminRole()) + " REPLICATION"});
    CHECK(targets() == "0");
  }
}

TEST_CASE("check prints a managed line: which steps the role can run, and what the others miss",
          "[check][pg][managed]") {
  useAdmin(Admin::kManaged);
  OwnershipScenario s;
  TestDb& db = s.db();
  CliResult ok = s.cli({"check"});
  INFO(ok.out << ok.err);
  CHECK(ok.exit_code == 0);
  CHECK(ok.out.find("managed") != std::string::npos);
  CHECK(ok.out.find("can run catalogue, ownership, outbox, projections, revoke, split (schema "
                    "mode)") != std::string::npos);
  connect(db.superDsn())->exec("ALTER ROLE " + quoteIdent(db.adminRole()) + " NOCREATEROLE");
  CliResult missing = s.cli({"check", "--json"});
  INFO(missing.out << missing.err);
  bool seen = false;
  for (const auto& ev : eventsOf(jsonLines(missing.out), "check")) {
    if (ev["check"] != "managed") continue;
    seen = true;
    CHECK(ev["status"] == "warn");
    CHECK(ev["detail"].get<std::string>().find("cannot run ownership (needs CREATEROLE)") !=
          std::string::npos);
  }
  CHECK(seen);
}
