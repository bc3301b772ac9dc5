// Passwords never appear in output, logs or the journal (DESIGN §4).
#include <sys/stat.h>

#include "catch2/catch.hpp"
#include "support/scenario.h"

using namespace dbsplit::test;

TEST_CASE("a password in the DSN never appears in output, the journal or its event log",
          "[engine][secrets][pg]") {
  Scenario s("CREATE TABLE public.t (id int PRIMARY KEY);", {"public.t"});
  const std::string secret = "Sup3r-S3cret-pw";
  std::string role = s.db().role("secretive", "LOGIN SUPERUSER PASSWORD '" + secret + "'");
  std::string port = std::to_string(sandboxPort());
  std::string uri =
      "postgresql://" + role + ":" + secret + "@127.0.0.1:" + port + "/" + s.db().name();
  std::string kv = "host=127.0.0.1 port=" + port + " dbname=" + s.db().name() + " user=" + role +
                   " password=" + secret;
  auto env = s.cliEnv({});
  std::string seen;
  auto cli = [&](std::vector<std::string> args, const std::string& dsn) {
    std::vector<std::string> all = {"--plan", s.planPath(), "--dsn", dsn};
    all.insert(all.end(), args.begin(), args.end());
    CliResult r = runCli(all, env);
    seen += r.out + r.err;
    return r;
  };
  REQUIRE(cli({"run", "selftest", "--json"}, uri).exit_code == 0);
  CHECK(cli({"status"}, kv).exit_code == 0);
  CHECK(cli({"log", "--json"}, uri).exit_code == 0);
  CHECK(cli({"plan"}, kv).exit_code == 0);
  CHECK(cli({"rollback", "selftest", "--json"}, kv).exit_code == 0);
  // A wrong password fails with a clear line that still does not echo it.
  CliResult wrong = cli({"status"}, "host=127.0.0.1 port=" + port + " dbname=" + s.db().name() +
                                        " user=" + role + " password=Wr0ng-" + secret);
  CHECK(wrong.exit_code == 3);
  CHECK(wrong.err.find("password authentication failed") != std::string::npos);

  CHECK(seen.find(secret) == std::string::npos);
  for (const std::string suffix : {"", "-wal"}) {
    struct stat st;
    std::string path = s.journalPath() + suffix;
    if (::stat(path.c_str(), &st) != 0) continue;  // SQLite removes an idle WAL
    CHECK(readFile(path).find(secret) == std::string::npos);
  }
  CHECK(seen.find("********") == std::string::npos);  // nothing even needed redacting
}
