// start/stop/status of the sandbox cluster. The order in start() is chosen so
// that every check that can fail with a clear message (binaries, user, directory,
// port) runs before initdb, and nothing is changed for a running sandbox.
#include "sandbox/sandbox.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <locale.h>
#include <netinet/in.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>
#include <set>

#include "fmt/format.h"
#include "sandbox/layout.h"
#include "sandbox/os_user.h"
#include "sandbox/pgbouncer.h"
#include "util/error.h"
#include "util/process.h"

namespace dbsplit::sandbox {

using util::lastLines;
using util::ProcessResult;
using util::runProcess;
namespace {

namespace fs = std::filesystem;

constexpr size_t kLogLines = 15;
constexpr const char* kWaitSeconds = "60";

// Serializes start/stop of one sandbox between processes; released on close.
class DirLock {
 public:
  explicit DirLock(const std::string& path) {
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0 || ::flock(fd_, LOCK_EX) != 0) {
      throw Error::stepFailed("sandbox_lock_failed",
                              fmt::format("could not lock {}: {}", path, std::strerror(errno)),
                              "check the permissions of the sandbox directory");
    }
  }
  ~DirLock() { ::close(fd_); }
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;

 private:
  int fd_ = -1;
};

Status statusOf(const Layout& layout, int fallback_port) {
  Status s;
  s.dir = layout.dir;
  s.log_file = layout.log;
  s.initialized = fs::exists(layout.data + "/PG_VERSION");
  PidFile pf = livePostmaster(layout);
  if (pf.pid > 0) {
    s.running = true;
    s.pid = pf.pid;
    s.port = pf.port;
  }
  if (s.port == 0) s.port = configuredPort(layout);
  if (s.port == 0) s.port = fallback_port;
  s.dsn = sandboxDsn(layout.dir, s.port, "postgres");
  s.pgbouncer_port = livePgbouncer(layout);
  if (s.pgbouncer_port > 0) {
    s.pgbouncer_dsn = sandboxDsn(layout.dir, s.pgbouncer_port, "postgres");
    s.pgbouncer_console = sandboxDsn(layout.dir, s.pgbouncer_port, "pgbouncer");
    s.pgbouncer_ini = pgbouncerIni(layout);
  }
  return s;
}

// The new log lines since `offset`, for error messages.
std::string logTail(const Layout& layout, size_t offset) {
  std::string log = readText(layout.log);
  if (offset > log.size()) offset = 0;
  std::string tail = lastLines(log.substr(offset), kLogLines);
  return tail.empty() ? "(server.log is empty)" : tail;
}

// Only a new, an empty or a sandbox directory is used: as root the directory
// is given to the postgres user, which must never happen to, say, /tmp.
void prepareDir(const Layout& layout, const ServerUser& user) {
  static const std::set<std::string> kOurs = {"data", "server.log", "sandbox.lock", "pgbouncer"};
  std::error_code ec;
  if (fs::exists(layout.dir, ec)) {
    if (!fs::is_directory(layout.dir, ec)) {
      throw Error::usage("sandbox_dir_invalid",
                         fmt::format("{} exists and is not a directory", layout.dir),
                         "choose another --dir");
    }
    for (const auto& entry : fs::directory_iterator(layout.dir, ec)) {
      std::string name = entry.path().filename().string();
      if (kOurs.count(name) == 0 && name.rfind(".s.PGSQL.", 0) != 0) {
        throw Error::usage(
            "sandbox_dir_not_empty",
            fmt::format("{} is not empty and holds no sandbox (it contains {})", layout.dir, name),
            "choose a new or empty --dir; the sandbox owns its whole directory");
      }
    }
  } else {
    checkTraversable(user, layout.dir);  // before creating anything
    fs::create_directories(layout.dir, ec);
    if (ec) {
      throw Error::precondition(
          "sandbox_dir_failed",
          fmt::format("could not create the sandbox directory {}: {}", layout.dir, ec.message()),
          "choose a --dir you may write to");
    }
  }
  if (!user.switch_user) return;
  struct stat st;
  bool data_foreign = ::stat(layout.data.c_str(), &st) == 0 && st.st_uid != user.uid;
  giveTo(user, layout.dir, data_foreign);
  checkTraversable(user, layout.dir);
}

std::string initdbLocale() {
  // C.UTF-8 sorts like C but accepts every character; not every system has it.
  locale_t loc = ::newlocale(LC_ALL_MASK, "C.UTF-8", static_cast<locale_t>(nullptr));
  if (loc == static_cast<locale_t>(nullptr)) return "C";
  ::freelocale(loc);
  return "C.UTF-8";
}

void checkVersion(const Layout& layout, const std::string& bindir) {
  std::string data_version = readText(layout.data + "/PG_VERSION");
  while (!data_version.empty() && (data_version.back() == '\n' || data_version.back() == ' ')) {
    data_version.pop_back();
  }
  ProcessResult r = runProcess({bindir + "/postgres", "--version"});
  // "postgres (PostgreSQL) 15.18 (Debian ...)"
  std::string out = r.output;
  size_t at = out.find(") ");
  std::string server_version = at == std::string::npos ? "" : out.substr(at + 2);
  if (r.exit_code != 0 || data_version.empty()) return;  // let pg_ctl report it
  if (server_version.rfind(data_version + ".", 0) == 0 || server_version == data_version) return;
  throw Error::precondition(
      "sandbox_version_mismatch",
      fmt::format("the sandbox at {} was made by PostgreSQL {}, but the binaries in {} are {}",
                  layout.dir, data_version, bindir, lastLines(server_version, 1)),
      fmt::format("delete {} to make a new sandbox, or set DBSPLIT_PG_BINDIR to PostgreSQL {}'s "
                  "bin directory",
                  layout.dir, data_version));
}

void checkPortFree(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;  // cannot tell; pg_ctl will
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int rc = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  int err = errno;
  ::close(fd);
  if (rc != 0 && err == EADDRINUSE) {
    throw Error::precondition(
        "port_in_use",
        fmt::format("port {} on 127.0.0.1 is already in use by another program", port),
        fmt::format("choose another --port, or see what listens there: ss -ltnp 'sport = :{}'",
                    port));
  }
}

// Runs a server tool as the server's OS user; returns what went wrong (with the
// server log's new lines when `with_log`), or nothing when it succeeded. The
// caller throws, so every error kind is spelled where it is raised.
std::optional<std::string> run(const ServerUser& user, const Layout& layout,
                               std::vector<std::string> argv, const std::string& what,
                               size_t log_offset, bool with_log) {
  ProcessResult r = runProcess(asServerUser(user, std::move(argv)), layout.dir);
  if (r.exit_code == 0) return std::nullopt;
  std::string message =
      fmt::format("{} failed (exit {}): {}", what, r.exit_code, lastLines(r.output, kLogLines));
  if (with_log) {
    message += fmt::format("\nlast lines of {}:\n{}", layout.log, logTail(layout, log_offset));
  }
  return message;
}

std::string failureHint(const Layout& layout) {
  return fmt::format("see {}; `dbsplit sandbox status --dir {}` shows the state", layout.log,
                     layout.dir);
}

void initCluster(const Layout& layout, const std::string& bindir, const ServerUser& user,
                 bool durable) {
  std::vector<std::string> argv = {bindir + "/initdb",
                                   "-D",
                                   layout.data,
                                   "-U",
                                   "postgres",
                                   "-E",
                                   "UTF8",
                                   "--locale=" + initdbLocale(),
                                   "--auth-local=trust",
                                   "--auth-host=scram-sha-256"};
  if (!durable) argv.push_back("--no-sync");
  if (auto failed = run(user, layout, argv, "initdb", 0, false)) {
    throw Error::stepFailed("sandbox_initdb_failed", *failed, failureHint(layout));
  }
}

// Every database created later copies template1, so it gets the extension too.
void createExtensions(const Layout& layout, const std::string& bindir, const ServerUser& user,
                      int port) {
  for (const char* db : {"postgres", "template1"}) {
    if (auto failed = run(user, layout,
                          {bindir + "/psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", layout.dir,
                           "-p", std::to_string(port), "-U", "postgres", "-d", db, "-c",
                           "CREATE EXTENSION IF NOT EXISTS pg_stat_statements"},
                          fmt::format("creating pg_stat_statements in {}", db), 0, false)) {
      throw Error::stepFailed("sandbox_extension_failed", *failed, failureHint(layout));
    }
  }
}

void checkPort(int port) {
  if (port < 1 || port > 65535) {
    throw Error::usage("sandbox_port_invalid", fmt::format("port {} is not in 1..65535", port));
  }
}

}  // namespace

Status start(const Options& options, bool* already_running) {
  if (already_running != nullptr) *already_running = false;
  Layout layout = layoutFor(options.dir);
  checkPort(options.port);
  validateDir(layout, options.port);
  std::string bindir = findBindir(options.bindir);
  ServerUser user = serverUser();
  // A running sandbox is reported before anything is created, chowned or locked.
  Status before = statusOf(layout, options.port);
  std::optional<DirLock> lock;
  if (!before.running) {
    checkPortFree(options.port);
    prepareDir(layout, user);
    lock.emplace(layout.lock);
    before = statusOf(layout, options.port);  // a concurrent start may have won the lock
  }
  if (before.running) {
    if (already_running != nullptr) *already_running = true;
    if (options.pgbouncer_port > 0 && before.pgbouncer_port == 0) {
      startPgbouncer(layout, user, before.port, options.pgbouncer_port);
      return statusOf(layout, options.port);
    }
    return before;
  }
  if (before.initialized) checkVersion(layout, bindir);
  if (!before.initialized) initCluster(layout, bindir, user, options.durable);
  writeSettings(layout, options.port, options.durable);
  giveTo(user, layout.conf, false);

  std::error_code ec;
  auto log_offset =
      static_cast<size_t>(fs::exists(layout.log, ec) ? fs::file_size(layout.log, ec) : 0);
  if (auto failed =
          run(user, layout,
              {bindir + "/pg_ctl", "start", "-D", layout.data, "-l", layout.log, "-w", "-t",
               kWaitSeconds},
              fmt::format("starting the sandbox at {} on port {}", layout.dir, options.port),
              log_offset, true)) {
    throw Error::stepFailed("sandbox_start_failed", *failed, failureHint(layout));
  }
  createExtensions(layout, bindir, user, options.port);
  if (options.pgbouncer_port > 0) {
    checkPort(options.pgbouncer_port);
    startPgbouncer(layout, user, options.port, options.pgbouncer_port);
  }
  return statusOf(layout, options.port);
}

Status stop(const Options& options) {
  Layout layout = layoutFor(options.dir);
  stopPgbouncer(layout);  // first: it holds server connections
  Status before = statusOf(layout, options.port);
  if (!before.running) return before;
  std::string bindir = findBindir(options.bindir);
  ServerUser user = serverUser();
  DirLock lock(layout.lock);
  std::error_code ec;
  auto log_offset =
      static_cast<size_t>(fs::exists(layout.log, ec) ? fs::file_size(layout.log, ec) : 0);
  if (auto failed = run(
          user, layout,
          {bindir + "/pg_ctl", "stop", "-D", layout.data, "-m", "fast", "-w", "-t", kWaitSeconds},
          fmt::format("stopping the sandbox at {}", layout.dir), log_offset, true)) {
    throw Error::stepFailed("sandbox_stop_failed", *failed, failureHint(layout));
  }
  return statusOf(layout, options.port);
}

Status status(const Options& options) { return statusOf(layoutFor(options.dir), options.port); }

}  // namespace dbsplit::sandbox
