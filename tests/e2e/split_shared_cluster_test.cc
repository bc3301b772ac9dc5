// Two databases of one cluster split with the same plan (staging and
// production): replication slots are cluster-wide, so each migration's names
// carry its source database's identity, and verify and drop look only at the
// current database (issue #18). A database dbsplit did not create is never
// adopted, so never dropped by a rollback.
#include <fstream>
#include <sstream>

#include "catch2/catch.hpp"
#include "support/scenario.h"
#include "support/split_fixture.h"

using namespace dbsplit::test;

namespace {

const char* kSetup = R"SQL(
CREATE TABLE public.orders (id bigint PRIMARY KEY, note text NOT NULL);
INSERT INTO public.orders SELECT g, 'seed ' || g FROM generate_series(1, 200) g;
)SQL";

const char* kPlan = R"TOML(
[[table]]
name = "public.orders"
owner = "@orders@"
)TOML";

std::string slotsOf(const std::string& dbname) {
  auto c = connect(sandboxDsn());
  std::string out;
  for (const auto& row : c->execParams("SELECT slot_name FROM pg_replication_slots "
                                       "WHERE database = $1 ORDER BY 1",
                                       dbname)) {
    out += std::string(row[0].c_str()) + "\n";
  }
  return out;
}

// Drops the logical slots of `dbname` at the end, so its database can go.
struct SlotCleanup {
  std::string dbname;
  ~SlotCleanup() {
    try {
      auto c = connect(sandboxDsn());
      c->execParams(
          "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots "
          "WHERE database = $1 AND active_pid IS NOT NULL",
          dbname);
      c->execParams(
          "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
          "WHERE database = $1 AND NOT active",
          dbname);
    } catch (const std::exception&) {
    }
  }
};

}  // namespace

TEST_CASE("two databases of one cluster split with the same plan keep their own slots",
          "[split][security][pg][slow]") {
  SplitScenario a{{"orders"}, kSetup, kPlan, {{"orders", {"app"}}}};
  const std::string target_a = a.extraDatabase("orders_db", false);
  const std::string target_b = a.extraDatabase("orders_db_b", false);
  a.setServiceDatabase("orders", sandboxDsn(target_a));
  a.setPlanExtra("[step.split]\nmode = \"database\"\n");

  // The second database: the same tables and the same plan (migration and
  // service names), with its own target database and journal.
  TestDb b;
  SlotCleanup cleanup_b{b.name()};
  b.exec("CREATE EXTENSION IF NOT EXISTS pg_stat_statements;\n" + a.expand(kSetup));
  TempDir dir_b;
  std::string plan_text = readFile(a.dir().file("dbsplit.toml"));
  const std::string dsn_a = sandboxDsn(target_a);
  plan_text.replace(plan_text.find(dsn_a), dsn_a.size(), sandboxDsn(target_b));
  dir_b.write("dbsplit.toml", plan_text);
  CliFn cli_b = [&](const std::vector<std::string>& args) {
    std::vector<std::string> all = {"--plan", dir_b.file("dbsplit.toml"), "--dsn", b.dsn(),
                                    "--no-progress"};
    all.insert(all.end(), args.begin(), args.end());
    return runCli(all);
  };

  a.advanceTo("split");
  CliResult run_a = a.cli({"run", "split", "--yes"});
  REQUIRE(run_a.exit_code == 0);
  const std::string slots_a = slotsOf(a.db().name());
  REQUIRE(!slots_a.empty());

  advanceUntil(cli_b, "split");
  CliResult run_b = cli_b({"run", "split", "--yes"});
  INFO(run_b.out << run_b.err);
  CHECK(run_b.exit_code == 0);
  const std::string slots_b = slotsOf(b.name());
  CHECK(!slots_b.empty());
  CHECK(slots_b != slots_a);
  CHECK(slotsOf(a.db().name()) == slots_a);

  // Rolling one back leaves the other's slot alone, both ways round.
  CliResult back_b = cli_b({"rollback", "split", "--yes"});
  CHECK(back_b.exit_code == 0);
  CHECK(slotsOf(b.name()).empty());
  CHECK(slotsOf(a.db().name()) == slots_a);
  REQUIRE(cli_b({"run", "split", "--yes"}).exit_code == 0);
  CHECK(slotsOf(b.name()) == slots_b);
  CHECK(a.cli({"rollback", "split", "--yes"}).exit_code == 0);
  CHECK(slotsOf(a.db().name()).empty());
  CHECK(slotsOf(b.name()) == slots_b);
  CHECK(cli_b({"rollback", "split", "--yes"}).exit_code == 0);
  CHECK(slotsOf(b.name()).empty());
}

TEST_CASE("a target database someone else created is never adopted nor dropped by rollback",
          "[split][security][pg][slow]") {
  SplitScenario s{{"orders"}, kSetup, kPlan, {{"orders", {"app"}}}};
  const std::string target = s.extraDatabase("orders_db", false);
  s.setServiceDatabase("orders", sandboxDsn(target));
  s.setPlanExtra("[step.split]\nmode = \"database\"\n");
  s.advanceTo("split");
  CliResult killed =
      s.cli({"run", "split", "--yes"},
            {{"DBSPLIT_FAULT", "split/database/" + s.service("orders") + ":before"}});
  REQUIRE(killed.exit_code == 137);
  // Between the plan and the run, another migration (or a person) made it.
  s.db().exec("CREATE DATABASE \"" + target + "\"");
  s.execIn(target, "CREATE TABLE public.precious (id int)");
  CliResult resume = s.cli({"resume", "--json"});
  CHECK(resume.exit_code != 0);
  CHECK(resume.out.find("database_taken") != std::string::npos);
  CliResult back = s.cli({"rollback", "split", "--yes"});
  CHECK(back.exit_code == 0);
  CHECK(s.scalarIn(target, "SELECT to_regclass('public.precious') IS NOT NULL") == "t");
}
