// The ownership step's gates and bad input through the binary: every refusal
// exits 2 or 3 with a clear message and changes nothing (no role, no schema,
// same pg_dump).
#include "catch2/catch.hpp"
#include "nlohmann/json.hpp"
#include "support/ownership_fixture.h"

using namespace dbsplit::test;

namespace {

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::string snapshotBody(const std::string& service, const std::string& role,
                         const std::string& table, const std::string& kind) {
  nlohmann::json a = {{"service", service},
                      {"role", role},
                      {"table", table},
                      {"kind", kind},
                      {"columns", {"status"}},
                      {"calls", 12},
                      {"via", nullptr},
                      {"fingerprint", "f00dfeed"},
                      {"statement", "UPDATE public.orders SET status = $1"}};
  return nlohmann::json{{"accesses", nlohmann::json::array({a})},
                        {"unresolved", nlohmann::json::array()}}
      .dump();
}

int roleCount(OwnershipScenario& s) {
  return std::stoi(s.db().scalar("SELECT count(*) FROM pg_roles WHERE rolname IN ('" + s.owner() +
                                 "', '" + s.consumer() + "')"));
}

}  // namespace

TEST_CASE(
    "a non-owner write in the catalogue blocks ownership with exit 3 and a waiver lets it "
    "proceed",
    "[ownership][pg]") {
  OwnershipScenario s;
  s.runCatalogue();
  s.addSnapshot(snapshotBody(s.consumer(), s.role("ful_app"), "public.orders", "write"));
  const std::string dump = s.db().schemaDump();

  CliResult blocked = s.cli({"run", "ownership"});
  INFO(blocked.out << blocked.err);
  CHECK(blocked.exit_code == 3);
  CHECK(has(blocked.out + blocked.err,
            s.consumer() + " writes public.orders (fingerprint f00dfeed, 12 calls"));
  CHECK(s.db().schemaDump() == dump);
  CHECK(roleCount(s) == 0);

  s.writePlan(ownershipTables(), "[[waiver]]\nservice = \"" + s.consumer() +
                                     "\"\ntable = \"public.orders\"\nreason = \"status "
                                     "write-back until ShipmentDispatched is consumed\"\n");
  CliResult waived = s.cli({"run", "ownership"});
  INFO(waived.out << waived.err);
  CHECK(waived.exit_code == 0);
  CHECK(has(waived.out, "waived: " + s.consumer() + " writes public.orders"));
}

TEST_CASE("a table used by two services but owned by none blocks ownership with exit 3",
          "[ownership][pg]") {
  OwnershipScenario s;
  s.db().exec("CREATE TABLE public.customers (id int)");
  s.runCatalogue();
  nlohmann::json body = nlohmann::json::parse(
      snapshotBody(s.consumer(), s.role("ful_app"), "public.customers", "read"));
  nlohmann::json second = body["accesses"][0];
  second["service"] = s.owner();
  second["role"] = s.role("orders_app");
  body["accesses"].push_back(second);
  s.addSnapshot(body.dump());
  CliResult r = s.cli({"run", "ownership"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 3);
  CHECK(has(r.out + r.err, "undeclared_tables"));
  CHECK(has(r.out + r.err, "public.customers (used by"));
  CHECK(roleCount(s) == 0);
}

TEST_CASE("an owner that is not a declared service is a plan error (exit 2)", "[ownership][pg]") {
  OwnershipScenario s;
  s.writePlan(ownershipTables(), "[[table]]\nname = \"public.extra\"\nowner = \"nobody\"\n");
  CliResult r = s.cli({"run", "ownership"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 2);
  CHECK(has(r.err, "owner: \"nobody\" is not a declared [[service]]"));
  CHECK(has(r.err, "dbsplit.toml:"));
}

TEST_CASE("ownership refuses bad input with exit 3 and changes nothing", "[ownership][pg]") {
  OwnershipScenario s;
  s.runCatalogue();
  const std::string dump = s.db().schemaDump();
  std::string expected;
  SECTION("a table that does not exist") {
    std::vector<std::string> tables = ownershipTables();
    tables.push_back("public.nope");
    s.writePlan(tables);
    expected = "table public.nope does not exist";
  }
  SECTION("a login role that does not exist") {
    s.writePlan(ownershipTables(), "[[service]]\nname = \"" + s.db().name() + "_x\"\nroles = [\"" +
                                       s.db().name() + "_ghost\"]\n");
    expected = "login role \"" + s.db().name() + "_ghost\" of service";
  }
  SECTION("a role named like the service that dbsplit did not create") {
    s.db().exec("CREATE ROLE \"" + s.owner() + "\" LOGIN");
    expected = "role \"" + s.owner() + "\" already exists and was not created by dbsplit";
  }
  SECTION("a schema named like the service owned by someone else") {
    s.db().exec("CREATE SCHEMA \"" + s.consumer() + "\"");
    expected = "schema \"" + s.consumer() + "\" already exists and is owned by postgres";
  }
  SECTION("a role that may not ALTER OWNER (not a superuser)") {
    std::string dsn = s.db().dsn();
    dsn.replace(dsn.find("user=postgres"), 13, "user=" + s.role("orders_app"));
    CliResult r =
        runCli({"--plan", s.planPath(), "--dsn", dsn, "--no-progress", "run", "ownership"});
    INFO(r.out << r.err);
    CHECK(r.exit_code == 3);
    CHECK(has(r.out + r.err, "is not a superuser"));
    CHECK(s.db().schemaDump() == dump);
    CHECK(roleCount(s) == 0);
    return;
  }
  CliResult r = s.cli({"run", "ownership"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 3);
  CHECK(has(r.err, expected));
  CHECK(has(r.err, "dbsplit.toml:"));
  CHECK(roleCount(s) == (expected.find("already exists and was not") != std::string::npos ? 1 : 0));
  CHECK(s.db().scalar("SELECT count(*) FROM pg_namespace WHERE nspname = '" + s.owner() + "'") ==
        "0");
}
