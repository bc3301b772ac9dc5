// A password in a DSN never reaches a command line: dbsplit's children
// (pg_dump, pg_restore, psql) get it through their environment, which only
// the same OS user can read, while `ps` shows every command line to everyone.

#include <chrono>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include "catch2/catch.hpp"
#include "pg/conninfo.h"
#include "sql/quote.h"
#include "support/proc.h"
#include "support/split_fixture.h"

using namespace dbsplit::test;

namespace {

const char* kSetup = R"SQL(
CREATE TABLE public.orders (id bigint PRIMARY KEY, note text NOT NULL);
INSERT INTO public.orders SELECT g, 'seed ' || g FROM generate_series(1, 500) g;
)SQL";

const char* kPlan = R"TOML(
[[table]]
name = "public.orders"
owner = "@orders@"
)TOML";

}  // namespace

TEST_CASE("a DSN password never shows on a child's command line during a database-mode split",
          "[split][security][pg][slow]") {
  SplitScenario s{{"orders"}, kSetup, kPlan};
  const std::string secret = "s3cret-" + s.db().name();
  const std::string admin = s.db().name() + "_admin";
  s.db().dropsRole(admin);
  s.db().exec("CREATE ROLE " + dbsplit::sql::quoteIdent(admin) + " LOGIN SUPERUSER PASSWORD '" +
              secret + "'");
  const std::string target = s.extraDatabase("orders_db", false);
  // The new database is reached over TCP with a password, as another server would be.
  s.setServiceDatabase("orders", "host=127.0.0.1 port=" + std::to_string(sandboxPort()) + " user=" +
                                     admin + " password=" + secret + " dbname=" + target);
  s.setPlanExtra("[step.split]\nmode = \"database\"\n");
  s.advanceTo("split");

  BackgroundCli run({"--plan", s.dir().file("dbsplit.toml"), "--dsn", s.db().dsn(), "--no-progress",
                     "run", "split", "--yes"});
  std::set<std::string> leaks;
  int children_seen = 0;
  const auto bound = std::chrono::steady_clock::now() + std::chrono::minutes(3);
  while (running(run.pid()) && std::chrono::steady_clock::now() < bound) {
    for (const std::string& line : commandLines()) {
      if (line.find("pg_dump") != std::string::npos ||
          line.find("pg_restore") != std::string::npos || line.find("psql") != std::string::npos) {
        ++children_seen;
      }
      if (line.find(secret) != std::string::npos) leaks.insert(line);
    }
  }
  CliResult r = run.wait();
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(children_seen > 0);  // the poll saw the children it guards
  CHECK(leaks.empty());
  for (const auto& l : leaks) WARN("leaked: " << l);
  CHECK(s.scalarIn(target, "SELECT count(*) FROM \"" + s.service("orders") + "\".orders") == "500");
}
