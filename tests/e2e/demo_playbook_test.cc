// dbsplit demo end to end on the suite's server (--server): both playbooks
// pass `dbsplit check`, the demo walks every step with live
// services and its "nothing lost" check compares real rows; with the test
// switch DBSPLIT_DEMO_DROP_EVENT=1 one event is lost and the check fails.
//
// The playbooks' roles are cluster-wide, so each playbook has one test case
// (they run in parallel without meeting).
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <thread>

#include "catch2/catch.hpp"
#include "support/proc.h"
#include "support/scenario.h"

using namespace dbsplit::test;

namespace {

// The demo's walk at the suite's speed: the services run a fifth as long
// between steps (--pace) and the deprecation window is 3 s. What the checks
// count (writes, events, projection rows, failed transactions) comes from
// the steps themselves, during which the services keep writing.
const char* const kWindow = "3s";
const char* const kPace = "0.2";

// Loads playbooks/<name>/schema.sql into a fresh database and runs
// `dbsplit check` with playbooks/<name>.toml against it.
void checkPlaybook(const std::string& name) {
  TestDb db;
  const std::string src = std::getenv("DBSPLIT_SOURCE_DIR");
  db.exec(readFile(src + "/playbooks/" + name + "/schema.sql"));
  TempDir dir;  // the journal goes beside a copy of the plan
  dir.write("plan.toml", readFile(src + "/playbooks/" + name + ".toml"));
  CliResult r = runCli({"--plan", dir.file("plan.toml"), "--dsn", db.dsn(), "check"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK(db.scalar("SELECT count(*) > 0 FROM pg_class WHERE relname IN ('orders', 'users')") == "t");
}

struct DemoRun {
  CliResult cli;
  std::vector<nlohmann::json> checks;  // demo_check events
};

DemoRun demo(const TempDir& dir, const std::string& playbook,
             const std::map<std::string, std::string>& env, bool keep = false,
             const std::string& split = "schema") {
  DemoRun d;
  std::vector<std::string> args = {"demo",       "--server", sandboxDsn(),   "--dir", dir.path(),
                                   "--playbook", playbook,   "--window",     kWindow, "--pace",
                                   kPace,        "--json",   "--no-progress"};
  if (keep) args.push_back("--keep");
  if (split != "schema") args.insert(args.end(), {"--split", split});
  d.cli = runCli(args, env);
  d.checks = eventsOf(jsonLines(d.cli.out), "demo_check");
  return d;
}

std::int64_t total(const std::vector<nlohmann::json>& checks, const std::string& key,
                   const std::string& prefix) {
  std::int64_t n = 0;
  for (const auto& c : checks) {
    if (c.value("target", "").rfind(prefix, 0) == 0) n += c.value(key, std::int64_t{0});
  }
  return n;
}

}  // namespace

TEST_CASE("the ecommerce playbook passes check and its demo loses nothing", "[demo][pg][slow]") {
  checkPlaybook("ecommerce");
  TempDir dir;
  DemoRun d = demo(dir, "ecommerce", {}, true);
  INFO(d.cli.out << d.cli.err);
  REQUIRE(d.cli.exit_code == 0);
  // The check compared real rows in the owners' tables and in the outboxes.
  CHECK(total(d.checks, "rows", "table ") > 100);
  CHECK(total(d.checks, "rows", "events in ") > 10);
  CHECK(total(d.checks, "wrong", "") == 0);
  for (const char* t : {"table ", "events in catalog.outbox", "events in orders.outbox"}) {
    bool seen = false;
    for (const auto& c : d.checks) seen = seen || c.value("target", "").find(t) == 0;
    CHECK(seen);
  }
  auto result = eventsOf(jsonLines(d.cli.out), "result");
  REQUIRE(result.size() == 1);
  CHECK(result[0].value("writes", 0) > 100);

  // What the demo left (--keep) makes a report with the coupling graph.
  CliResult r = runCli({"--plan", dir.file("dbsplit.toml"), "--dsn", sandboxDsn("shop"), "report",
                        "--html", dir.file("report.html")});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  const std::string html = readFile(dir.file("report.html"));
  CHECK((html.find("<svg") != std::string::npos || html.find("digraph") != std::string::npos));
  CHECK(html.find("fulfillment") != std::string::npos);
  CHECK(html.find("id=\"step-outbox\"") != std::string::npos);
  CHECK(html.find("http://") == std::string::npos);
  CHECK(html.find("https://") == std::string::npos);

  // Clean up what --keep left: the database and the playbook's roles.
  TestDb admin;
  admin.exec("DROP DATABASE shop WITH (FORCE)");
  for (const char* svc : {"catalog", "cart", "orders", "payments", "inventory", "fulfillment"}) {
    for (const std::string& role : {std::string(svc), std::string(svc) + "_app"}) {
      if (admin.scalar("SELECT count(*) FROM pg_roles WHERE rolname = '" + role + "'") == "1") {
        admin.exec("DROP OWNED BY " + role + " CASCADE; DROP ROLE " + role);
      }
    }
  }

  // --split database (same roles, so in this test case): the consumers'
  // databases hold their projections from step 4 and step 6 copies each
  // owner's schema beside them; tables and outboxes are checked in the new
  // databases, projections for every write (the relay follows each moved
  // outbox into its owner's new database).
  TempDir dir2;
  DemoRun db = demo(dir2, "ecommerce", {}, false, "database");
  INFO(db.cli.out << db.cli.err);
  REQUIRE(db.cli.exit_code == 0);
  CHECK(total(db.checks, "wrong", "") == 0);
  CHECK(total(db.checks, "rows", "projection ") > 10);
  CHECK(total(db.checks, "rows", "events in orders.outbox") > 0);
  // The projections were checked in the consumers' own databases.
  bool own_database = false;
  for (const auto& e : eventsOf(jsonLines(db.cli.out), "demo_detail")) {
    own_database = own_database || e.dump().find("createdb") != std::string::npos;
  }
  CHECK(own_database);
  CHECK(admin.scalar("SELECT count(*) FROM pg_database WHERE datname LIKE 'shop%'") == "0");
}

TEST_CASE(
    "with --split database the demo puts PgBouncer in front of its services, which keep their "
    "connections through the cutover, and no transaction fails",
    "[demo][pg][pgbouncer][slow]") {
  // Its own sandbox (PgBouncer runs beside a sandbox only), on ports of this
  // suite's range: another cluster, so the playbook's roles meet no other test's.
  TempDir dir;
  const std::string port = std::to_string(sandboxPort() + 20);
  // No --pgbouncer: database mode turns it on by itself.
  CliResult r = runCli({"demo", "--dir", dir.path(), "--port", port, "--split", "database",
                        "--window", kWindow, "--pace", kPace, "--json", "--no-progress"});
  // A failed demo leaves its sandbox running for a look: stop it either way.
  runCli({"sandbox", "stop", "--dir", dir.path() + "/sandbox"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  auto lines = jsonLines(r.out);
  std::vector<nlohmann::json> checks = eventsOf(lines, "demo_check");
  CHECK(total(checks, "wrong", "") == 0);
  CHECK(total(checks, "rows", "projection ") > 10);
  CHECK(r.out.find("the services connect through PgBouncer") != std::string::npos);
  bool split_seen = false;
  for (const auto& e : eventsOf(lines, "demo_step_services")) {
    INFO(e.dump());
    CHECK(e["failed"] == 0);
    if (e["step"] != "split") continue;
    split_seen = true;
    // They wrote through the cutovers on the connections they held: PgBouncer
    // held their transactions while each pool was paused and repointed.
    CHECK(e["transactions"].get<std::int64_t>() > 0);
    CHECK(e["connects"] == 0);
    std::cout << "demo --split database (through PgBouncer): " << e["transactions"]
              << " transactions during the split, 0 failed, longest " << e["longest_ms"] << " ms\n";
  }
  CHECK(split_seen);
  auto app = eventsOf(lines, "demo_application");
  REQUIRE(app.size() == 1);
  CHECK(app[0]["failed"] == 0);
  // The hook repointed every service's pool to the service's own database.
  const std::string ini = readFile(dir.path() + "/sandbox/pgbouncer/pgbouncer.ini");
  for (const char* svc : {"catalog", "cart", "orders", "payments", "inventory", "fulfillment"}) {
    INFO(ini);
    CHECK(ini.find(std::string("\n") + svc + " = ") != std::string::npos);
    CHECK(ini.find(std::string("dbname=shop_") + svc + " ") != std::string::npos);
  }
}

TEST_CASE("the users playbook passes check and a dropped event makes its demo fail",
          "[demo][pg][slow]") {
  checkPlaybook("users");
  TempDir dir;
  // --server with a password (unused over the trusted socket, but in the DSN):
  // the demo's dbsplit children must never show it on their command lines.
  const std::string secret = "s3cret-demo-" + std::to_string(::getpid());
  BackgroundCli run(
      {"demo", "--server", sandboxDsn() + " password=" + secret, "--dir", dir.path(), "--playbook",
       "users", "--window", kWindow, "--pace", kPace, "--json", "--no-progress"},
      {{"DBSPLIT_DEMO_DROP_EVENT", "1"}});
  std::set<std::string> leaks;
  int children_seen = 0;
  const auto bound = std::chrono::steady_clock::now() + std::chrono::minutes(4);
  while (running(run.pid()) && std::chrono::steady_clock::now() < bound) {
    for (const std::string& line : commandLines()) {
      if (line.find("--plan " + dir.path()) != std::string::npos) ++children_seen;
      if (line.find(secret) != std::string::npos &&
          line.find(" demo --server ") == std::string::npos) {
        leaks.insert(line);
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  DemoRun d;
  d.cli = run.wait();
  d.checks = eventsOf(jsonLines(d.cli.out), "demo_check");
  INFO(d.cli.out << d.cli.err);
  CHECK(children_seen > 0);  // the poll saw the children it guards
  CHECK(leaks.empty());
  for (const auto& l : leaks) WARN("leaked: " << l);
  CHECK(d.cli.out.find(secret) == std::string::npos);
  CHECK(d.cli.err.find(secret) == std::string::npos);
  CHECK((readFile(dir.file("dbsplit.toml")).find(secret) == std::string::npos ||
         (std::filesystem::status(dir.file("dbsplit.toml")).permissions() &
          (std::filesystem::perms::group_all | std::filesystem::perms::others_all)) ==
             std::filesystem::perms::none));
  CHECK(d.cli.exit_code == 1);
  CHECK(total(d.checks, "rows", "") > 0);
  CHECK(total(d.checks, "wrong", "") >= 1);
  auto errors = eventsOf(jsonLines(d.cli.out), "error");
  REQUIRE(!errors.empty());
  CHECK(errors.back().dump().find("nothing-lost check failed") != std::string::npos);
}
