// The catalogue's other inputs through the binary: SQL folders attributed by
// folder name, pgaudit lines, and bad input (exit 2, nothing journaled).
#include <sys/stat.h>

#include "catch2/catch.hpp"
#include "journal/journal.h"
#include "support/catalogue_workload.h"
#include "support/pg_test.h"
#include "support/scenario.h"

using namespace dbsplit::test;

namespace {

struct Fixture {
  TestDb db;
  TempDir dir;
  Fixture() {
    db.exec(
        "CREATE TABLE public.orders (id int PRIMARY KEY, status text);"
        "CREATE TABLE public.shipments (id int PRIMARY KEY, order_id int);");
    dir.write("dbsplit.toml",
              "[migration]\nname = \"m\"\n"
              "[[service]]\nname = \"orders\"\nroles = [\"o_app\"]\n"
              "[[service]]\nname = \"fulfillment\"\nroles = [\"f_app\"]\n");
  }
  CliResult cli(std::vector<std::string> args) const {
    std::vector<std::string> all = {"--plan", dir.file("dbsplit.toml"), "--dsn", db.dsn(),
                                    "--no-progress"};
    all.insert(all.end(), args.begin(), args.end());
    return runCli(all);
  }
};

}  // namespace

TEST_CASE("catalogue attributes sql folders to the service their subfolder names",
          "[catalogue][pg]") {
  Fixture f;
  ::mkdir(f.dir.file("app").c_str(), 0755);
  ::mkdir(f.dir.file("app/orders").c_str(), 0755);
  ::mkdir(f.dir.file("app/fulfillment").c_str(), 0755);
  f.dir.write("app/orders/q.sql",
              "-- orders' queries\nUPDATE orders SET status = 'x' WHERE id = 1;\n");
  f.dir.write("app/fulfillment/q.sql",
              "SELECT o.status FROM orders o\n  JOIN shipments s ON s.order_id = o.id;\n"
              "INSERT INTO shipments (id, order_id) VALUES (1, 1);\n");
  f.dir.write("app/misc.sql", "DELETE FROM shipments;\n");
  CliResult r = f.cli({"catalogue", "--source", "sql:" + f.dir.file("app"), "--format", "json"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  auto snap = nlohmann::json::parse(r.out);
  CHECK(accessTriples(snap) == std::set<AccessTriple>{{"orders", "public.orders", "write"},
                                                      {"orders", "public.orders", "read"},
                                                      {"fulfillment", "public.orders", "read"},
                                                      {"fulfillment", "public.shipments", "read"},
                                                      {"fulfillment", "public.shipments", "write"},
                                                      {"unassigned", "public.shipments", "write"}});
}

TEST_CASE("catalogue counts pgaudit session and object lines once per statement",
          "[catalogue][pg]") {
  Fixture f;
  // pgaudit's documented line format, one line per relation with log_relation.
  f.dir.write("audit.log",
              "2026-11-23 10:00:00.000 UTC [42] user=f_app,db=x,app=psql LOG:  AUDIT: "
              "SESSION,1,1,READ,SELECT,TABLE,public.orders,\"SELECT o.id FROM orders o JOIN "
              "shipments s ON s.order_id = o.id\",<not logged>\n"
              "2026-11-23 10:00:00.000 UTC [42] user=f_app,db=x,app=psql LOG:  AUDIT: "
              "SESSION,1,1,READ,SELECT,TABLE,public.shipments,\"SELECT o.id FROM orders o JOIN "
              "shipments s ON s.order_id = o.id\",<not logged>\n"
              "2026-11-23 10:00:01.000 UTC [43] user=o_app,db=x,app=psql LOG:  AUDIT: "
              "OBJECT,7,1,WRITE,UPDATE,TABLE,public.orders,\"UPDATE orders SET status = 'a'\","
              "<not logged>\n");
  CliResult r =
      f.cli({"catalogue", "--source", "log:" + f.dir.file("audit.log"), "--format", "json"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  auto snap = nlohmann::json::parse(r.out);
  CHECK(accessTriples(snap) == std::set<AccessTriple>{{"fulfillment", "public.orders", "read"},
                                                      {"fulfillment", "public.shipments", "read"},
                                                      {"orders", "public.orders", "write"}});
  for (const auto& a : snap["accesses"]) {
    CHECK(a["calls"] == 1);
    CHECK(a["application"] == "psql");
  }
}

TEST_CASE("bad catalogue input fails with one line naming where, and journals nothing",
          "[catalogue][pg]") {
  Fixture f;
  f.dir.write("notalog.txt", "hello\nworld\n");
  struct Case {
    std::vector<std::string> args;
    std::string says;
  };
  std::vector<Case> cases = {
      {{"--source", "mysql:/x"}, "--source: unknown source \"mysql:/x\""},
      {{"--source", "log:" + f.dir.file("missing.csv")}, "no such file"},
      {{"--source", "log:" + f.dir.file("notalog.txt")}, "is not a PostgreSQL log"},
      {{"--source", "sql:/x@nosuch"}, "the plan declares no service \"nosuch\""},
      {{"--since", "yesterday"}, "--since yesterday: neither a snapshot id nor a duration"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> args = {"catalogue"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    CliResult r = f.cli(args);
    INFO(r.out << r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find(c.says) != std::string::npos);
  }

  // In the plan: the position of the bad source, and no journal written by `run`.
  f.dir.write("bad.toml",
              "[migration]\nname = \"m\"\n[step.catalogue]\nsources = [\"log:missing.csv\"]\n");
  CliResult run =
      runCli({"--plan", f.dir.file("bad.toml"), "--dsn", f.db.dsn(), "run", "catalogue"});
  INFO(run.out << run.err);
  CHECK(run.exit_code == 2);
  CHECK(run.err.find("bad.toml:4:12: cannot read") != std::string::npos);
  // The engine opens its journal first; the step recorded nothing in it.
  if (dbsplit::journal::Journal::exists(f.dir.file(".dbsplit/m.db"))) {
    auto journal = dbsplit::journal::Journal::open(f.dir.file(".dbsplit/m.db"),
                                                   dbsplit::journal::Journal::Mode::kReadOnly);
    CHECK_FALSE(journal->step("catalogue"));
    CHECK(journal->snapshots("catalogue").empty());
  }

  f.dir.write("bad2.toml", "[migration]\nname = \"m\"\n[step.catalogue]\nsources = [\"logs:x\"]\n");
  CliResult syntax = runCli({"--plan", f.dir.file("bad2.toml"), "check"});
  CHECK(syntax.exit_code == 2);
  CHECK(syntax.err.find("bad2.toml:4:12") != std::string::npos);

  // A role in two services is a plan error (exit 2) before anything is read.
  f.dir.write("two.toml",
              "[migration]\nname = \"m\"\n[[service]]\nname = \"a\"\nroles = [\"r\"]\n"
              "[[service]]\nname = \"b\"\nroles = [\"r\"]\n");
  CliResult two = runCli({"--plan", f.dir.file("two.toml"), "--dsn", f.db.dsn(), "catalogue"});
  CHECK(two.exit_code == 2);
  CHECK(two.err.find("two.toml:8:") != std::string::npos);
}

TEST_CASE("catalogue without pg_stat_statements says how to install it, exit 3",
          "[catalogue][pg]") {
  Fixture f;
  f.db.exec("DROP EXTENSION pg_stat_statements");
  CliResult r = f.cli({"catalogue"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 3);
  CHECK(r.err.find("pg_stat_statements is not installed") != std::string::npos);
  CHECK(r.err.find("CREATE EXTENSION pg_stat_statements") != std::string::npos);
  CliResult run = f.cli({"run", "catalogue"});
  CHECK(run.exit_code == 3);
  auto journal = dbsplit::journal::Journal::open(f.dir.file(".dbsplit/m.db"),
                                                 dbsplit::journal::Journal::Mode::kReadOnly);
  CHECK_FALSE(journal->step("catalogue"));
}
