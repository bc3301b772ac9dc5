// PgBouncer beside a sandbox (pgbouncer.h).
#include "sandbox/pgbouncer.h"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>

#include "fmt/format.h"
#include "util/error.h"
#include "util/process.h"

namespace dbsplit::sandbox {
namespace fs = std::filesystem;
namespace {

std::string folder(const Layout& layout) { return layout.dir + "/pgbouncer"; }
std::string pidFile(const Layout& layout) { return folder(layout) + "/pgbouncer.pid"; }
std::string iniFile(const Layout& layout) { return folder(layout) + "/pgbouncer.ini"; }
std::string socketOf(const Layout& layout, int port) {
  return fmt::format("{}/.s.PGSQL.{}", layout.dir, port);
}

std::string findPgbouncer() {
  for (const char* candidate : {"/usr/sbin/pgbouncer", "/usr/bin/pgbouncer"}) {
    if (::access(candidate, X_OK) == 0) return candidate;
  }
  throw Error::precondition("pgbouncer_missing", "PgBouncer is not installed",
                            "apt-get install pgbouncer (Debian 12), or start the sandbox "
                            "without --pgbouncer");
}

int pidOf(const Layout& layout) {
  std::ifstream in(pidFile(layout));
  int pid = 0;
  if (!(in >> pid) || pid <= 0 || ::kill(pid, 0) != 0) return 0;
  return pid;
}

// The port written into the configuration (listen_port = N).
int listenPort(const Layout& layout) {
  std::ifstream in(iniFile(layout));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("listen_port = ", 0) == 0) return std::stoi(line.substr(14));
  }
  return 0;
}

bool waitFor(const std::function<bool()>& done) {
  for (int i = 0; i < 100; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

// `trust` as the server's local logins are: a user must still be known to
// PgBouncer, so `postgres` (in userlist.txt) looks the others up on the server.
void writeConfig(const Layout& layout, int server_port, int port) {
  const std::string dir = folder(layout);
  std::ofstream ini(iniFile(layout), std::ios::trunc);
  ini << "; Written by dbsplit sandbox start --pgbouncer.\n"
      << "[databases]\n"
      << "* = host=" << layout.dir << " port=" << server_port << " auth_user=postgres\n\n"
      << "[pgbouncer]\n"
      << "listen_addr =\n"
      << "listen_port = " << port << "\n"
      << "unix_socket_dir = " << layout.dir << "\n"
      << "unix_socket_mode = 0700\n"
      << "auth_type = trust\n"
      << "auth_file = " << dir << "/userlist.txt\n"
      << "admin_users = postgres\n"
      << "pool_mode = transaction\n"
      << "max_client_conn = 500\n"
      << "default_pool_size = 20\n"
      << "server_lifetime = 3600\n"
      // libpq clients (dbsplit's own, psql) send these; PgBouncer would refuse them.
      << "ignore_startup_parameters = options, extra_float_digits\n"
      << "logfile = " << dir << "/pgbouncer.log\n"
      << "pidfile = " << pidFile(layout) << "\n";
  std::ofstream users(dir + "/userlist.txt", std::ios::trunc);
  users << "\"postgres\" \"\"\n";
}

}  // namespace

std::string pgbouncerIni(const Layout& layout) { return iniFile(layout); }

int livePgbouncer(const Layout& layout) { return pidOf(layout) > 0 ? listenPort(layout) : 0; }

void startPgbouncer(const Layout& layout, const ServerUser& user, int server_port, int port) {
  if (pidOf(layout) > 0) return;
  const std::string binary = findPgbouncer();
  std::error_code ec;
  fs::create_directories(folder(layout), ec);
  fs::permissions(folder(layout), fs::perms::owner_all, ec);
  writeConfig(layout, server_port, port);
  giveTo(user, folder(layout), true);
  util::ProcessResult r =
      util::runProcess(asServerUser(user, {binary, "-d", iniFile(layout)}), layout.dir);
  const std::string log = folder(layout) + "/pgbouncer.log";
  // -d returns once it forked: the socket and then the pid file appear after.
  if (r.exit_code != 0 ||
      !waitFor([&] { return fs::exists(socketOf(layout, port)) && pidOf(layout) > 0; })) {
    throw Error::stepFailed("pgbouncer_start_failed",
                            fmt::format("PgBouncer did not start on port {} (exit {}): {}", port,
                                        r.exit_code, r.output),
                            "see " + log);
  }
}

void stopPgbouncer(const Layout& layout) {
  const int pid = pidOf(layout);
  if (pid == 0) return;
  const int port = listenPort(layout);
  ::kill(pid, SIGTERM);
  waitFor([&] { return ::kill(pid, 0) != 0; });
  std::error_code ec;
  fs::remove(socketOf(layout, port), ec);
}

}  // namespace dbsplit::sandbox
