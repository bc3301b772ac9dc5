// dbsplit walk driven through a real pseudo-terminal (tmux): the prompt, an
// apply of the next step and a rollback of it, then quit.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <thread>

#include "catch2/catch.hpp"
#include "support/ownership_fixture.h"
#include "support/scenario.h"

using namespace dbsplit::test;

namespace {

std::string shellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// A tmux server of its own (-L), so the test never meets a user's sessions.
class Tmux {
 public:
  explicit Tmux(const std::string& command)
      : socket_("dbsplit-walk-" + std::to_string(::getpid())) {
    // A long scrollback, so that every menu printed stays countable.
    conf_.write("tmux.conf", "set -g history-limit 100000\n");
    run("-f " + conf_.file("tmux.conf") + " new-session -d -x 220 -y 60 -s walk " +
        shellQuote(command));
  }
  ~Tmux() { run("kill-server"); }

  void keys(const std::string& keys) { run("send-keys -t walk " + keys); }

  // The whole scrollback of the pane.
  std::string screen() {
    TempDir d;
    run("capture-pane -p -S - -t walk > " + d.file("screen"));
    return readFile(d.file("screen"));
  }

  // Waits until `text` appears `count` times on the screen (at most 60 s).
  bool waitFor(const std::string& text, int count = 1) {
    for (int i = 0; i < 600; ++i) {
      std::string s = screen();
      int n = 0;
      for (size_t at = s.find(text); at != std::string::npos; at = s.find(text, at + 1)) ++n;
      if (n >= count) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }

 private:
  int run(const std::string& args) {
    std::string cmd = "env -u TMUX tmux -L " + socket_ + " " + args + " 2>/dev/null";
    return std::system(cmd.c_str());
  }
  std::string socket_;
  TempDir conf_;
};

std::string stepStatus(const OwnershipScenario& s, const std::string& step) {
  CliResult r = s.cli({"status", "--json"});
  for (const auto& e : eventsOf(jsonLines(r.out), "step")) {
    if (e.value("step", "") == step) return e.value("status", "");
  }
  return "";
}

}  // namespace

TEST_CASE("walk applies the next step and rolls it back through a terminal", "[walk][pg]") {
  OwnershipScenario s;
  s.runCatalogue();
  std::string command;
  for (const auto& a : s.cliArgs({"--yes", "walk"})) command += " " + shellQuote(a);
  command = shellQuote(std::getenv("DBSPLIT_BINARY")) + command + "; echo WALK-EXIT=$?; sleep 60";
  Tmux t(command);

  // The first screen: status, the next step in a few lines with its gates
  // evaluated, and the menu; within one screen (80 lines), no SQL.
  REQUIRE(t.waitFor("[q]uit"));
  std::string first = t.screen();
  first = first.substr(0, first.find("[q]uit"));
  INFO(first);
  CHECK(first.find("next step: ownership") != std::string::npos);
  CHECK(first.find("action(s): ") != std::string::npos);
  CHECK(first.find("gates, evaluated now:") != std::string::npos);
  CHECK(first.find("pass memberships") != std::string::npos);
  CHECK(first.find("ALTER TABLE") == std::string::npos);
  CHECK(first.find("[a]pply ownership") != std::string::npos);
  CHECK(std::count(first.begin(), first.end(), '\n') <= 80);

  // The SQL on [s].
  t.keys("s Enter");
  REQUIRE(t.waitFor("ALTER TABLE"));
  REQUIRE(t.waitFor("[q]uit", 2));

  t.keys("a Enter");
  REQUIRE(t.waitFor("[b]ack: roll back ownership"));
  CHECK(stepStatus(s, "ownership") == "applied");

  t.keys("b Enter");
  REQUIRE(t.waitFor("[q]uit", 4));
  // The menu after the rollback offers ownership again.
  REQUIRE(t.waitFor("[a]pply ownership", 3));
  CHECK(stepStatus(s, "ownership") == "rolled_back");

  t.keys("q Enter");
  REQUIRE(t.waitFor("WALK-EXIT=0"));
}

TEST_CASE("walk refuses to run without a terminal", "[walk][pg]") {
  OwnershipScenario s;
  CliResult r = s.cli({"walk"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("needs a terminal") != std::string::npos);
}
