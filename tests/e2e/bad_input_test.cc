// Bad input gets one clear line naming the problem and what to do, the
// documented exit code, and nothing changed (issue 3, DESIGN §5.6).
#include <sqlite3.h>
#include <sys/stat.h>

#include "catch2/catch.hpp"
#include "support/scenario.h"

using namespace dbsplit::test;

namespace {

struct BadPlan {
  const char* what;
  const char* plan;
  const char* where;  // expected "line:column"
  const char* says;
};

const BadPlan kBadPlans[] = {
    {"syntax error", "[migration]\nname = \"t\n", ":2:", "dbsplit.toml"},
    {"unknown key", "[migration]\nname = \"t\"\ndatabse = \"x\"\n", ":3:1",
     "did you mean \"database\""},
    {"missing owner",
     "[migration]\nname = \"t\"\n[[service]]\nname = \"a\"\n[[table]]\nname = \"public.t\"\n",
     ":5:1", "owner"},
    {"two owners",
     "[migration]\nname = \"t\"\n[[service]]\nname = \"a\"\n[[service]]\nname = \"b\"\n"
     "[[table]]\nname = \"public.t\"\nowner = \"a\"\n[[table]]\nname = \"public.t\"\nowner = "
     "\"b\"\n",
     ":11:8", "declared twice"},
    {"owner not a service",
     "[migration]\nname = \"t\"\n[[service]]\nname = \"orders\"\n[[table]]\n"
     "name = \"public.t\"\nowner = \"ordrs\"\n",
     ":7:9", "did you mean \"orders\""},
    {"bad migration name", "[migration]\nname = \"Bad Name!\"\n", ":2:8", "name"},
};

}  // namespace

TEST_CASE("an invalid plan exits 2 naming file:line:column and creates no journal",
          "[cli][plan][pg]") {
  for (const auto& bad : kBadPlans) {
    INFO(bad.what);
    TempDir dir;
    dir.write("dbsplit.toml", bad.plan);
    for (const char* command : {"check", "status", "run"}) {
      std::vector<std::string> args = {"--plan", dir.file("dbsplit.toml"), command};
      if (std::string(command) == "run") args.push_back("--next");
      CliResult r = runCli(args, {{"DBSPLIT_TEST_STEPS", "1"}});
      INFO(command << ": " << r.err);
      CHECK(r.exit_code == 2);
      CHECK(r.err.find(dir.file("dbsplit.toml") + std::string(bad.where)) != std::string::npos);
      CHECK(r.err.find(bad.says) != std::string::npos);
      struct stat st;
      CHECK(::stat(dir.file(".dbsplit").c_str(), &st) != 0);
    }
  }
}

TEST_CASE("an unknown flag exits 2 with one clear line", "[cli]") {
  CliResult r = runCli({"status", "--frobnicate"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("--frobnicate") != std::string::npos);
  CHECK(r.err.find("--help") != std::string::npos);
  CHECK(r.out.empty());
}

TEST_CASE("global options work before and after the command", "[cli][pg]") {
  Scenario s("CREATE TABLE public.t (id int PRIMARY KEY);", {"public.t"});
  CliResult after =
      runCli({"status", "--plan", s.planPath(), "--dsn", s.db().dsn(), "--json"}, s.cliEnv({}));
  CliResult before =
      runCli({"--json", "--plan", s.planPath(), "--dsn", s.db().dsn(), "status"}, s.cliEnv({}));
  CHECK(after.exit_code == 0);
  CHECK(after.out == before.out);
  CHECK(jsonLines(after.out).back()["event"] == "result");
}

TEST_CASE("an unreachable server exits 3 with one clear line", "[cli][pg]") {
  Scenario s("CREATE TABLE public.t (id int PRIMARY KEY);", {"public.t"});
  CliResult r = runCli({"--plan", s.planPath(), "--dsn",
                        "host=127.0.0.1 port=1 dbname=x connect_timeout=3", "run", "selftest"},
                       s.cliEnv({}));
  CHECK(r.exit_code == 3);
  CHECK(r.err.find("cannot connect to host=127.0.0.1 port=1 dbname=x") != std::string::npos);
  CHECK(r.err.find("hint:") != std::string::npos);
}

TEST_CASE("a read-only database is refused before anything changes", "[cli][pg]") {
  Scenario s("CREATE TABLE public.t (id int PRIMARY KEY);", {"public.t"});
  s.db().exec("ALTER DATABASE " + s.db().name() + " SET default_transaction_read_only = on");
  const std::string before = s.db().schemaDump();
  CliResult r = s.cli({"run", "selftest"});
  CHECK(r.exit_code == 3);
  CHECK(r.err.find("read-only") != std::string::npos);
  CHECK(s.db().schemaDump() == before);
  CliResult check = s.cli({"check"});
  CHECK(check.exit_code == 3);
  CHECK(check.out.find("fail  writable") != std::string::npos);
}

TEST_CASE("a journal in a missing directory exits 2 and changes nothing", "[cli][journal][pg]") {
  Scenario s("CREATE TABLE public.t (id int PRIMARY KEY);", {"public.t"}, "");
  TempDir dir;
  std::string plan = readFile(s.planPath());
  plan.replace(plan.find("name = \"t\""), 10,
               "name = \"t\"\njournal = \"" + dir.path() + "/no/such/dir/j.db\"");
  dir.write("p.toml", plan);
  const std::string before = s.db().schemaDump();
  CliResult r = runCli({"--plan", dir.file("p.toml"), "--dsn", s.db().dsn(), "run", "selftest"},
                       s.cliEnv({}));
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("journal directory") != std::string::npos);
  CHECK(s.db().schemaDump() == before);
}

TEST_CASE("a journal locked by another process exits 4 and changes nothing", "[cli][journal][pg]") {
  Scenario s("CREATE TABLE public.t (id int PRIMARY KEY);", {"public.t"});
  REQUIRE(s.cli({"status"}).exit_code == 0);
  REQUIRE(s.cli({"run", "selftest"}).exit_code == 0);
  REQUIRE(s.cli({"rollback", "selftest"}).exit_code == 0);
  const std::string before = s.db().schemaDump();
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(s.journalPath().c_str(), &db) == SQLITE_OK);
  REQUIRE(sqlite3_exec(db, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr) == SQLITE_OK);
  CliResult r = s.cli({"run", "selftest"});
  sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  INFO(r.out << r.err);
  CHECK(r.exit_code == 4);
  CHECK(r.err.find("locked by another process") != std::string::npos);
  CHECK(s.db().schemaDump() == before);
}

TEST_CASE("a corrupt journal is refused with exit 6 and left untouched", "[cli][journal][pg]") {
  Scenario s("CREATE TABLE public.t (id int PRIMARY KEY);", {"public.t"});
  ::mkdir((s.dir().path() + "/.dbsplit").c_str(), 0700);
  s.dir().write(".dbsplit/t.db", std::string(4096, '\x7f') + "not a journal");
  const std::string sha = fileSha256(s.journalPath());
  for (const char* command : {"status", "run"}) {
    std::vector<std::string> args = {command};
    if (std::string(command) == "run") args.push_back("selftest");
    CliResult r = s.cli(args);
    INFO(r.err);
    CHECK(r.exit_code == 6);
    CHECK(r.err.find("damaged or not a dbsplit journal") != std::string::npos);
  }
  CHECK(fileSha256(s.journalPath()) == sha);
}

TEST_CASE("every command has a manual page with an example", "[cli]") {
  for (const char* command :
       {"check", "plan", "status", "run", "rollback", "resume", "log", "sandbox", "demo"}) {
    INFO(command);
    CliResult r = runCli({command, "--help"});
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("DESCRIPTION") != std::string::npos);
    CHECK(r.out.find("EXAMPLES") != std::string::npos);
    CHECK(r.out.find("EXIT STATUS") != std::string::npos);
  }
}
