// Progress bars go to stderr on a terminal only (DESIGN §4): proven with a
// real pseudo-terminal from util-linux `script`, not by reading code.
#include "catch2/catch.hpp"
#include "support/scenario.h"

using namespace dbsplit::test;

namespace {

std::string shellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace

TEST_CASE("a run draws a progress bar on a terminal and none without one",
          "[engine][progress][pg]") {
  Scenario s("CREATE TABLE public.a (id int PRIMARY KEY); CREATE TABLE public.b (id int);",
             {"public.a", "public.b"}, "[step.selftest]\nkinds = [\"comment\"]\n");
  std::string command = "DBSPLIT_TEST_STEPS=1 " + shellQuote(std::getenv("DBSPLIT_BINARY"));
  const std::vector<std::string> args = {"--plan",     s.planPath(), "--dsn",
                                         s.db().dsn(), "run",        "selftest"};
  for (const auto& a : args) {
    command += " " + shellQuote(a);
  }
  TempDir out;
  int rc = std::system(("script -qec " + shellQuote(command) + " " + out.file("typescript") +
                        " </dev/null >/dev/null 2>&1")
                           .c_str());
  std::string screen = readFile(out.file("typescript"));
  INFO(screen);
  REQUIRE(rc == 0);
  CHECK(screen.find("run selftest [") != std::string::npos);  // the bar
  CHECK(screen.find("\x1b[2K") != std::string::npos);         // redrawn in place
  CHECK(screen.find("step selftest applied") != std::string::npos);

  REQUIRE(s.cli({"rollback", "selftest"}).exit_code == 0);
  CliResult piped =
      runCli({"--plan", s.planPath(), "--dsn", s.db().dsn(), "run", "selftest"}, s.cliEnv({}));
  CHECK(piped.exit_code == 0);
  CHECK(piped.err.find("\x1b[2K") == std::string::npos);
  CHECK(piped.out.find("\x1b[2K") == std::string::npos);
}
