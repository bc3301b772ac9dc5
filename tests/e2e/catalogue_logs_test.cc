// The catalogue reading server logs that a private sandbox server wrote itself
// (stderr, csvlog and jsonlog at once), then the same logs damaged: garbage
// lines, a truncated record, a binary file and an unparsable statement.
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "catch2/catch.hpp"
#include "support/catalogue_workload.h"
#include "support/pg_test.h"

using namespace dbsplit::test;
namespace fs = std::filesystem;

namespace {

// A PostgreSQL of its own: ALTER SYSTEM is cluster-wide, so logging settings
// must not touch the suite's shared sandbox.
class PrivateServer {
 public:
  PrivateServer() {
    ::chmod(dir_.path().c_str(), 0755);  // the server may run as `postgres`
    sandbox_ = dir_.file("pg");
    for (int attempt = 0; attempt < 5 && !started_; ++attempt) {
      port_ = 30000 + static_cast<int>((::getpid() * 7 + attempt * 131) % 20000);
      started_ = start().exit_code == 0;
    }
    REQUIRE(started_);
  }
  ~PrivateServer() {
    if (started_) runCli({"sandbox", "stop", "--dir", sandbox_});
  }
  CliResult start() {
    return runCli({"sandbox", "start", "--dir", sandbox_, "--port", std::to_string(port_),
                   "--no-fsync", "--no-progress"});
  }
  void restart() {
    REQUIRE(runCli({"sandbox", "stop", "--dir", sandbox_}).exit_code == 0);
    CliResult r = start();
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
  }
  std::string dsn(const std::string& db, const std::string& user = "postgres") const {
    return "host=" + sandbox_ + " port=" + std::to_string(port_) + " user=" + user +
           " dbname=" + db;
  }
  std::string logDir() const { return sandbox_ + "/data/log"; }
  const TempDir& dir() const { return dir_; }

 private:
  TempDir dir_;
  std::string sandbox_;
  int port_ = 0;
  bool started_ = false;
};

void exec(const std::string& dsn, const std::string& sql) {
  auto c = connect(dsn);
  c->exec(sql);
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Waits until the logging collector has written `marker` to every file.
void waitForLogs(const std::vector<std::string>& files, const std::string& marker) {
  for (int i = 0; i < 100; ++i) {
    bool all = true;
    for (const auto& f : files) all = all && slurp(f).find(marker) != std::string::npos;
    if (all) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  FAIL("the server did not write " << marker << " to its logs");
}

}  // namespace

TEST_CASE("catalogue reads stderr, csvlog and jsonlog logs the server wrote itself",
          "[catalogue][pg][slow]") {
  PrivateServer server;
  for (const char* setting :
       {"ALTER SYSTEM SET logging_collector = on",
        "ALTER SYSTEM SET log_destination = 'stderr,csvlog,jsonlog'",
        "ALTER SYSTEM SET log_statement = 'all'", "ALTER SYSTEM SET log_filename = 'pg.log'",
        "ALTER SYSTEM SET log_line_prefix = '%m [%p] user=%u,db=%d,app=%a '"}) {
    exec(server.dsn("postgres"), setting);
  }
  server.restart();
  exec(server.dsn("postgres"), "CREATE DATABASE shop");
  ShopRoles roles{"orders_app", "fulfil_app", "billing_app", "stray_app"};
  for (const auto& r : {roles.orders, roles.fulfillment, roles.billing, roles.stray}) {
    exec(server.dsn("postgres"), "CREATE ROLE " + r + " LOGIN");
  }
  exec(server.dsn("shop"), shopSchemaSql(roles));
  runShopWorkload(roles, [&](const std::string& role) { return server.dsn("shop", role); });
  exec(server.dsn("shop"), "SELECT 'catalogue-workload-done'");
  const std::string logs = server.logDir();
  waitForLogs({logs + "/pg.log", logs + "/pg.csv", logs + "/pg.json"}, "catalogue-workload-done");
  // Copies: the server keeps logging while we read.
  const TempDir& dir = server.dir();
  for (const char* f : {"pg.log", "pg.csv", "pg.json"}) dir.write(f, slurp(logs + "/" + f));
  dir.write("dbsplit.toml", shopPlan(roles));
  auto catalogue = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = {"--plan",        dir.file("dbsplit.toml"),
                                     "--dsn",         server.dsn("shop"),
                                     "--no-progress", "catalogue",
                                     "--format",      "json"};
    args.insert(args.end(), extra.begin(), extra.end());
    return runCli(args);
  };

  for (const char* f : {"pg.log", "pg.csv", "pg.json"}) {
    CliResult r = catalogue({"--source", "log:" + dir.file(f)});
    INFO(f << "\n" << r.out << r.err);
    REQUIRE(r.exit_code == 0);
    auto snap = nlohmann::json::parse(r.out);
    CHECK(accessTriples(snap) == expectedShopAccesses());
    CHECK(snap["unresolved"].empty());
    CHECK(snap["stats"]["skipped_lines"] == 0);
  }

  SECTION("damaged input is counted with file:line and the rest is still catalogued") {
    std::string csv = slurp(dir.file("pg.csv"));
    size_t last = csv.rfind("\n2", csv.size() - 2);  // the start of the last record
    REQUIRE(last != std::string::npos);
    std::string damaged = csv.substr(0, last + 1) + "this is not a log line\n" +
                          csv.substr(last + 1, 60);  // cut inside a quoted field
    if (damaged.back() != '"') damaged += ",\"unterminated";
    dir.write("damaged.csv", damaged);
    dir.write("binary.log", std::string("\x7f"
                                        "ELF\0\0\x01\x02garbage",
                                        16));
    dir.write("broken.sql", "SELECT email FROM public.customers;\nSELEC broken FROM;\n");
    CliResult r = catalogue({"--source", "log:" + dir.file("damaged.csv"), "--source",
                             "log:" + dir.file("binary.log"), "--source",
                             "sql:" + dir.file("broken.sql") + "@billing"});
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    auto snap = nlohmann::json::parse(r.out);
    CHECK(accessTriples(snap) == expectedShopAccesses());
    CHECK(snap["stats"]["skipped_lines"] == 3);  // garbage, truncated record, binary file
    std::string skipped = snap["skipped"].dump();
    CHECK(skipped.find("damaged.csv:") != std::string::npos);
    CHECK(skipped.find("binary.log:1") != std::string::npos);
    REQUIRE(snap["unresolved"].size() == 1);
    CHECK(snap["unresolved"][0]["where"] == dir.file("broken.sql") + ":2");
    CHECK(snap["unresolved"][0]["reason"].get<std::string>().find("syntax error") !=
          std::string::npos);
    CHECK(r.err.find("warning: 3 line(s) of input skipped") != std::string::npos);
    CHECK(r.err.find("not fully resolved") != std::string::npos);

    CliResult none = catalogue({"--source", "log:" + dir.file("binary.log")});
    CHECK(none.exit_code == 2);
    CHECK(none.err.find("no source could be read") != std::string::npos);
  }
}
