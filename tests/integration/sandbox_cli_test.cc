// `dbsplit sandbox start|stop|status` against real PostgreSQL: the suite's
// running sandbox, and second sandboxes made and removed by the tests.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <sstream>

#include "catch2/catch.hpp"
#include "nlohmann/json.hpp"
#include "support/pg_test.h"

namespace dbsplit::test {
namespace {

namespace fs = std::filesystem;

std::vector<nlohmann::json> jsonLines(const std::string& out) {
  std::vector<nlohmann::json> lines;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) lines.push_back(nlohmann::json::parse(line));
  }
  return lines;
}

nlohmann::json sandboxEvent(const CliResult& r) {
  for (const auto& ev : jsonLines(r.out)) {
    if (ev.value("event", "") == "sandbox") return ev;
  }
  FAIL("no sandbox event in: " << r.out << r.err);
  return {};
}

// A port for a second sandbox, apart from the suite's and per test process.
int otherPort(int offset) { return 56000 + static_cast<int>(::getpid() % 900) + offset; }

// Stops a sandbox made by a test even when an assertion ends the test early.
class SandboxGuard {
 public:
  explicit SandboxGuard(std::string dir) : dir_(std::move(dir)) {}
  ~SandboxGuard() {
    try {
      runCli({"sandbox", "stop", "--dir", dir_});
    } catch (const std::exception&) {
      // The test has failed already and says why; a destructor must not throw.
    }
  }

 private:
  std::string dir_;
};

fs::file_time_type mtime(const std::string& path) { return fs::last_write_time(path); }

}  // namespace

TEST_CASE("sandbox start on the running suite sandbox changes nothing and says so",
          "[sandbox][pg]") {
  const std::string dir = sandboxDir();
  const std::string port = std::to_string(sandboxPort());
  CliResult before = runCli({"--json", "sandbox", "status", "--dir", dir});
  REQUIRE(before.exit_code == 0);
  nlohmann::json status = sandboxEvent(before);
  REQUIRE(status["running"] == true);
  const std::string conf = dir + "/data/dbsplit_sandbox.conf";
  auto conf_time = mtime(conf);

  CliResult human = runCli({"sandbox", "start", "--dir", dir, "--port", port});
  CHECK(human.exit_code == 0);
  CHECK_THAT(human.out, Catch::Contains("sandbox already running at " + dir + " on port " + port +
                                        " (pid " + std::to_string(status["pid"].get<int>()) + ")"));

  CliResult json = runCli({"sandbox", "start", "--dir", dir, "--port", port, "--json"});
  CHECK(json.exit_code == 0);
  std::vector<nlohmann::json> lines = jsonLines(json.out);
  REQUIRE(lines.size() >= 2);
  nlohmann::json ev = sandboxEvent(json);
  CHECK(ev["action"] == "start");
  CHECK(ev["status"] == "running");
  CHECK(ev["already_running"] == true);
  CHECK(ev["dir"] == dir);
  CHECK(ev["port"] == sandboxPort());
  CHECK(ev["pid"] == status["pid"]);
  CHECK(ev["dsn"] == "host=" + dir + " port=" + port + " user=postgres dbname=postgres");
  CHECK(ev["log"] == dir + "/server.log");
  CHECK(lines.back()["event"] == "result");
  CHECK(lines.back()["ok"] == true);
  CHECK(lines.back()["exit_code"] == 0);

  // Same server, settings file untouched.
  CHECK(mtime(conf) == conf_time);
  CHECK(sandboxEvent(runCli({"--json", "sandbox", "status", "--dir", dir}))["pid"] ==
        status["pid"]);
}

TEST_CASE("a second sandbox starts, reports running, accepts connections and stops twice",
          "[sandbox][pg][slow]") {
  TempDir tmp;
  const std::string dir = tmp.file("sb");
  const int port = otherPort(0);
  SandboxGuard guard(dir);

  if (::geteuid() == 0) {
    // mkdtemp makes 0700 directories: the postgres user cannot get in, and
    // start must say where before it creates anything.
    CliResult refused =
        runCli({"sandbox", "start", "--dir", dir, "--port", std::to_string(port), "--no-fsync"});
    CHECK(refused.exit_code == 3);
    CHECK_THAT(refused.err, Catch::Contains("cannot enter " + tmp.path()));
    CHECK_FALSE(fs::exists(dir));
  }
  REQUIRE(::chmod(tmp.path().c_str(), 0755) == 0);

  CliResult started = runCli(
      {"sandbox", "start", "--dir", dir, "--port", std::to_string(port), "--no-fsync", "--json"});
  INFO(started.out << started.err);
  REQUIRE(started.exit_code == 0);
  nlohmann::json ev = sandboxEvent(started);
  CHECK(ev["already_running"] == false);
  CHECK(ev["created"] == true);
  CHECK(ev["port"] == port);
  const std::string dsn = ev["dsn"];
  CHECK(dsn == "host=" + dir + " port=" + std::to_string(port) + " user=postgres dbname=postgres");
  nlohmann::json result = jsonLines(started.out).back();
  CHECK(result["next_steps"][0] == "psql \"" + dsn + "\"");
  CHECK(result["next_steps"][1] == "dbsplit sandbox stop --dir " + dir);

  nlohmann::json st = sandboxEvent(runCli({"--json", "sandbox", "status", "--dir", dir}));
  CHECK(st["status"] == "running");
  CHECK(st["pid"] == ev["pid"]);
  CHECK(st["port"] == port);

  {
    // Over the socket as the trusted superuser; over TCP with a password.
    auto c = connect(dsn);
    CHECK(c->exec("SHOW fsync")[0][0].as<std::string>() == "off");
    CHECK(c->exec("SHOW wal_level")[0][0].as<std::string>() == "logical");
    c->exec("CREATE ROLE app LOGIN PASSWORD 'secret-pw'");
    auto tcp = connect("host=127.0.0.1 port=" + std::to_string(port) +
                       " user=app password=secret-pw dbname=postgres");
    CHECK(tcp->exec("SELECT current_user")[0][0].as<std::string>() == "app");
  }

  CliResult stopped = runCli({"sandbox", "stop", "--dir", dir});
  CHECK(stopped.exit_code == 0);
  CHECK_THAT(stopped.out, Catch::Contains("sandbox stopped at " + dir));
  nlohmann::json after = sandboxEvent(runCli({"--json", "sandbox", "status", "--dir", dir}));
  CHECK(after["status"] == "stopped");
  CHECK(after["running"] == false);
  CHECK_THROWS(connect(dsn));

  CliResult again = runCli({"sandbox", "stop", "--dir", dir, "--json"});
  CHECK(again.exit_code == 0);
  CHECK(sandboxEvent(again)["was_running"] == false);

  // Started again without --port, it keeps the port it was made with.
  CliResult restarted = runCli({"sandbox", "start", "--dir", dir, "--json"});
  INFO(restarted.out << restarted.err);
  REQUIRE(restarted.exit_code == 0);
  CHECK(sandboxEvent(restarted)["port"] == port);
  CHECK(sandboxEvent(restarted)["created"] == false);
  CHECK(runCli({"sandbox", "stop", "--dir", dir}).exit_code == 0);
}

TEST_CASE("sandbox start without the server binaries exits 3 naming postgresql-15",
          "[sandbox][pg]") {
  TempDir tmp;
  const std::string dir = tmp.file("sb");
  CliResult r = runCli({"sandbox", "start", "--dir", dir, "--port", std::to_string(otherPort(1))},
                       {{"DBSPLIT_PG_BINDIR", "/nonexistent"}});
  CHECK(r.exit_code == 3);
  CHECK_THAT(r.err, Catch::Contains("postgresql-15"));
  CHECK_THAT(r.err, Catch::Contains("/nonexistent"));
  CHECK_FALSE(fs::exists(dir));

  CliResult json =
      runCli({"--json", "sandbox", "start", "--dir", dir}, {{"DBSPLIT_PG_BINDIR", "/nonexistent"}});
  CHECK(json.exit_code == 3);
  std::vector<nlohmann::json> lines = jsonLines(json.out);
  REQUIRE(lines.size() == 2);
  CHECK(lines[0]["event"] == "error");
  CHECK(lines[0]["kind"] == "postgres_missing");
  CHECK(lines[1]["exit_code"] == 3);
}

TEST_CASE("sandbox start refuses a port another program listens on", "[sandbox][pg]") {
  const int port = otherPort(2);
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(fd, 1) == 0);

  TempDir tmp;
  REQUIRE(::chmod(tmp.path().c_str(), 0755) == 0);
  const std::string dir = tmp.file("sb");
  CliResult r = runCli({"sandbox", "start", "--dir", dir, "--port", std::to_string(port)});
  ::close(fd);
  CHECK(r.exit_code == 3);
  CHECK_THAT(r.err, Catch::Contains("port " + std::to_string(port)));
  CHECK_THAT(r.err, Catch::Contains("in use"));
  CHECK_FALSE(fs::exists(dir + "/data"));
}

TEST_CASE("sandbox start refuses a directory whose socket path is too long", "[sandbox][pg]") {
  TempDir tmp;
  const std::string dir = tmp.file(std::string(100, 'd'));
  CliResult r = runCli({"sandbox", "start", "--dir", dir});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("Unix socket path"));
  CHECK_FALSE(fs::exists(dir));
}

TEST_CASE("sandbox status and stop of a missing sandbox succeed and say there is none",
          "[sandbox][pg]") {
  TempDir tmp;
  // A relative --dir is taken from the working directory.
  CliResult status = runCli({"--json", "sandbox", "status", "--dir", "nothing"}, {}, tmp.path());
  CHECK(status.exit_code == 0);
  nlohmann::json ev = sandboxEvent(status);
  CHECK(ev["status"] == "absent");
  CHECK(ev["dir"] == tmp.path() + "/nothing");

  CliResult stop = runCli({"sandbox", "stop", "--dir", "nothing"}, {}, tmp.path());
  CHECK(stop.exit_code == 0);
  CHECK_THAT(stop.out, Catch::Contains("no sandbox at " + tmp.path() + "/nothing"));
  CHECK_FALSE(fs::exists(tmp.file("nothing")));
}

}  // namespace dbsplit::test
