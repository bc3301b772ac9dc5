// A test's own PgBouncer (bouncer.h).
#include "support/bouncer.h"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "pg/conninfo.h"
#include "support/pg_test.h"
#include "util/process.h"

namespace dbsplit::test {
namespace fs = std::filesystem;
namespace {

std::vector<std::string> asPostgres(std::vector<std::string> argv) {
  if (::geteuid() != 0) return argv;
  argv.insert(argv.begin(), {"runuser", "-u", "postgres", "--"});
  return argv;
}

int pidIn(const std::string& dir) {
  std::ifstream in(dir + "/pgbouncer.pid");
  int pid = 0;
  if (!(in >> pid) || pid <= 0 || ::kill(pid, 0) != 0) return 0;
  return pid;
}

}  // namespace

std::string TestBouncer::config(const std::string& databases) const {
  return "[databases]\n" + databases +
         "\n\n[pgbouncer]\n"
         "listen_addr =\n"
         "listen_port = " +
         std::to_string(port_) +
         "\n"
         "unix_socket_dir = " +
         dir_ +
         "\n"
         "auth_type = trust\n"
         "auth_file = " +
         dir_ +
         "/userlist.txt\n"
         "admin_users = postgres\n"
         "pool_mode = transaction\n"
         "default_pool_size = 10\n"
         "server_lifetime = 3600\n"
         "ignore_startup_parameters = options, extra_float_digits\n"
         "logfile = " +
         dir_ +
         "/pgbouncer.log\n"
         "pidfile = " +
         dir_ + "/pgbouncer.pid\n";
}

TestBouncer::TestBouncer(const std::string& databases) {
  char tmpl[] = "/tmp/dbsplit-bouncer-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = tmpl;
  // A port of its own: the socket's name carries it, and the folder is ours.
  port_ = 20000 + static_cast<int>(::getpid() % 20000);
  fs::permissions(dir_, fs::perms::all);
  std::ofstream(iniPath()) << config(databases);
  std::ofstream(dir_ + "/userlist.txt") << "\"postgres\" \"\"\n";
  if (::geteuid() == 0) {
    util::runProcess({"chown", "-R", "postgres", dir_});
  }
  util::ProcessResult r = util::runProcess(asPostgres({"/usr/sbin/pgbouncer", "-d", iniPath()}));
  for (int i = 0;
       i < 100 && !(pidIn(dir_) > 0 && fs::exists(dir_ + "/.s.PGSQL." + std::to_string(port_)));
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (pidIn(dir_) == 0) {
    throw std::runtime_error("the test's PgBouncer did not start: " + r.output);
  }
}

TestBouncer::~TestBouncer() {
  if (int pid = pidIn(dir_)) {
    ::kill(pid, SIGTERM);
    for (int i = 0; i < 100 && ::kill(pid, 0) == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

std::string TestBouncer::dsn(const std::string& pool, const std::string& user) const {
  return "host=" + pg::quoteConninfoValue(dir_) + " port=" + std::to_string(port_) +
         " user=" + pg::quoteConninfoValue(user) + " dbname=" + pg::quoteConninfoValue(pool);
}

std::string TestBouncer::consoleDsn() const { return dsn("pgbouncer", "postgres"); }

namespace {

std::unique_ptr<pg::Session> console(const std::string& dsn) {
  pg::ConnectOptions o;
  o.dsn = dsn;
  o.application_name = "dbsplit-test";
  o.console = true;
  return pg::Session::connect(o);
}

}  // namespace

void TestBouncer::setDatabases(const std::string& databases) {
  std::ofstream(iniPath(), std::ios::trunc) << config(databases);
  console(consoleDsn())->exec("RELOAD");
}

bool TestBouncer::paused(const std::string& pool) const {
  for (const auto& row : console(consoleDsn())->exec("SHOW DATABASES")) {
    if (row["name"].as<std::string>() == pool) return row["paused"].as<std::string>() != "0";
  }
  throw std::runtime_error("PgBouncer has no pool " + pool);
}

int TestBouncer::serversLoggingIn(const std::string& pool) const {
  int n = 0;
  for (const auto& row : console(consoleDsn())->exec("SHOW POOLS")) {
    if (row["database"].as<std::string>() == pool) n += row["sv_login"].as<int>();
  }
  return n;
}

int TestBouncer::consoleClients(const std::string& prefix) const {
  int n = 0;
  for (const auto& row : console(consoleDsn())->exec("SHOW CLIENTS")) {
    if (row["database"].as<std::string>() == "pgbouncer" &&
        row["application_name"].as<std::string>("").rfind(prefix, 0) == 0) {
      ++n;
    }
  }
  return n;
}

}  // namespace dbsplit::test
