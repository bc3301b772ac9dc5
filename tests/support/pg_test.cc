// Implementation of the PostgreSQL test helpers. Everything here fails loudly
// (std::runtime_error) except the destructors, which clean up what they can and
// warn on stderr: a test's own failure must not be hidden by its cleanup.
#include "support/pg_test.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "pg/conninfo.h"
#include "sandbox/sandbox.h"
#include "sql/quote.h"
#include "util/hash.h"

extern char** environ;

namespace dbsplit::test {
namespace {

namespace fs = std::filesystem;

std::string requiredEnv(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') {
    throw std::runtime_error(
        std::string(name) +
        " is not set: run the PostgreSQL tests through ctest, whose fixture sandbox.start "
        "starts the suite's sandbox and sets it (see tests/CMakeLists.txt)");
  }
  return v;
}

// Connecting once proves the fixture is up; the answer is kept for the run.
void requireAnswering() {
  static std::atomic<bool> answered{false};
  if (answered) return;
  std::string dir = requiredEnv("DBSPLIT_TEST_SANDBOX_DIR");
  std::string port = requiredEnv("DBSPLIT_TEST_PORT");
  std::string dsn =
      "host=" + pg::quoteConninfoValue(dir) + " port=" + port + " user=postgres dbname=postgres";
  try {
    connect(dsn);
  } catch (const std::exception& e) {
    throw std::runtime_error(
        "the test sandbox does not answer at " + dir + " port " + port + ": " + e.what() +
        "\nrun the tests through ctest (the fixture sandbox.start starts it), or start it: "
        "dbsplit sandbox start --dir " +
        dir + " --port " + port + " --no-fsync");
  }
  answered = true;
}

// ---- child processes -------------------------------------------------------

struct Child {
  int pid = -1;
  int out_fd = -1;
  int err_fd = -1;
};

std::vector<std::string> mergedEnv(const std::map<std::string, std::string>& extra) {
  std::map<std::string, std::string> all;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string kv = *e;
    size_t eq = kv.find('=');
    if (eq == std::string::npos) continue;
    all[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const auto& [k, v] : extra) all[k] = v;
  std::vector<std::string> out;
  for (const auto& [k, v] : all) out.push_back(k + "=" + v);
  return out;
}

Child spawn(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
            const std::string& cwd) {
  // Built before fork(): the child only makes syscalls.
  std::vector<std::string> env_strings = mergedEnv(env);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<char*> envp;
  for (const auto& e : env_strings) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  std::string exec_failed = "could not run " + argv[0] + "\n";
  std::string chdir_failed = "could not change directory to " + cwd + "\n";

  int out[2];
  int err[2];
  if (::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  if (::pipe2(err, O_CLOEXEC) != 0) {
    ::close(out[0]);
    ::close(out[1]);
    throw std::runtime_error("pipe failed");
  }
  // Larger pipes so a background child rarely blocks before wait() drains it.
  ::fcntl(out[0], F_SETPIPE_SZ, 1 << 20);
  ::fcntl(err[0], F_SETPIPE_SZ, 1 << 20);
  pid_t pid = ::fork();
  if (pid < 0) {
    for (int fd : {out[0], out[1], err[0], err[1]}) ::close(fd);
    throw std::runtime_error(std::string("fork failed: ") + std::strerror(errno));
  }
  if (pid == 0) {
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, STDIN_FILENO);
    ::dup2(out[1], STDOUT_FILENO);
    ::dup2(err[1], STDERR_FILENO);
    if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) {
      ssize_t ignored = ::write(STDERR_FILENO, chdir_failed.data(), chdir_failed.size());
      (void)ignored;
      ::_exit(127);
    }
    ::execve(args[0], args.data(), envp.data());
    ssize_t ignored = ::write(STDERR_FILENO, exec_failed.data(), exec_failed.size());
    (void)ignored;
    ::_exit(127);
  }
  ::close(out[1]);
  ::close(err[1]);
  return {pid, out[0], err[0]};
}

// Reads both pipes until EOF (poll: neither can fill up and stall the child),
// then reaps the child.
CliResult collect(Child& child) {
  CliResult r;
  struct pollfd fds[2] = {{child.out_fd, POLLIN, 0}, {child.err_fd, POLLIN, 0}};
  std::string* sinks[2] = {&r.out, &r.err};
  int open_fds = 2;
  char buf[65536];
  while (open_fds > 0) {
    int n = ::poll(fds, 2, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      ssize_t got = ::read(fds[i].fd, buf, sizeof buf);
      if (got > 0) {
        sinks[i]->append(buf, static_cast<size_t>(got));
      } else if (got == 0 || errno != EINTR) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  for (auto& f : fds) {
    if (f.fd >= 0) ::close(f.fd);
  }
  child.out_fd = child.err_fd = -1;
  int status = 0;
  while (::waitpid(child.pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) {
    r.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    r.exit_code = 128 + WTERMSIG(status);
  }
  return r;
}

std::string binary() { return requiredEnv("DBSPLIT_BINARY"); }

std::vector<std::string> withBinary(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

// pg_dump 15.14+ writes \restrict with a random key each run; a fixed key keeps
// two dumps of the same schema identical.
bool pgDumpHasRestrictKey(const std::string& pg_dump) {
  static int known = -1;
  if (known < 0) {
    Child c = spawn({pg_dump, "--help"}, {}, {});
    CliResult r = collect(c);
    known = r.out.find("--restrict-key") != std::string::npos ? 1 : 0;
  }
  return known == 1;
}

std::string uniqueName() {
  static std::atomic<int> counter{0};
  std::random_device rd;
  std::ostringstream ss;
  ss << "t_" << ::getpid() << "_" << counter++ << "_" << std::hex << rd();
  return ss.str();
}

}  // namespace

std::string sandboxDir() {
  requireAnswering();
  return requiredEnv("DBSPLIT_TEST_SANDBOX_DIR");
}

int sandboxPort() {
  requireAnswering();
  std::string port = requiredEnv("DBSPLIT_TEST_PORT");
  try {
    return std::stoi(port);
  } catch (const std::exception&) {
    throw std::runtime_error("DBSPLIT_TEST_PORT is not a number: " + port);
  }
}

std::string sandboxDsn(const std::string& dbname) {
  return "host=" + pg::quoteConninfoValue(sandboxDir()) + " port=" + std::to_string(sandboxPort()) +
         " user=postgres dbname=" + pg::quoteConninfoValue(dbname);
}

int pgbouncerPort() { return sandboxPort() + 1; }

std::string pgbouncerDsn(const std::string& dbname, const std::string& user) {
  return "host=" + pg::quoteConninfoValue(sandboxDir()) +
         " port=" + std::to_string(pgbouncerPort()) + " user=" + pg::quoteConninfoValue(user) +
         " dbname=" + pg::quoteConninfoValue(dbname);
}

std::string pgbouncerConsoleDsn() { return pgbouncerDsn("pgbouncer"); }

std::string secondSandboxDir() { return requiredEnv("DBSPLIT_TEST_SANDBOX2_DIR"); }

int secondSandboxPort() {
  std::string port = requiredEnv("DBSPLIT_TEST_PORT2");
  try {
    return std::stoi(port);
  } catch (const std::exception&) {
    throw std::runtime_error("DBSPLIT_TEST_PORT2 is not a number: " + port);
  }
}

std::string secondSandboxDsn(const std::string& dbname, const std::string& user) {
  return "host=" + pg::quoteConninfoValue(secondSandboxDir()) +
         " port=" + std::to_string(secondSandboxPort()) + " user=" + pg::quoteConninfoValue(user) +
         " dbname=" + pg::quoteConninfoValue(dbname);
}

// Found once: findBindir may run pg_config, and every schemaDump asks.
std::string pgBindir() {
  static const std::string dir = sandbox::findBindir();
  return dir;
}

// pg::Session also keeps NOTICEs quiet ("role does not exist, skipping").
std::unique_ptr<pg::Session> connect(const std::string& dsn) {
  pg::ConnectOptions o;
  o.dsn = dsn;
  o.application_name = "dbsplit-test";
  o.application = true;  // a test's SQL is the application's: the server's search_path
  return pg::Session::connect(o);
}

// ---- TestDb ----------------------------------------------------------------

namespace {
// DBSPLIT_TEST_ADMIN=managed runs any test as the managed admin, to try one.
Admin g_admin = [] {
  const char* v = std::getenv("DBSPLIT_TEST_ADMIN");
  return v && std::string(v) == "managed" ? Admin::kManaged : Admin::kSuperuser;
}();
}  // namespace

void useAdmin(Admin admin) { g_admin = admin; }
Admin currentAdmin() { return g_admin; }

// The managed admin is made the way RDS makes its master user (minus what a
// provider keeps for itself): CREATEROLE, CREATEDB, REPLICATION, the stats
// role, owner of the database. The superuser adds pg_stat_statements, which
// only it (the provider) can create.
TestDb::TestDb() : name_(uniqueName()) {
  auto su = connect(sandboxDsn());
  const std::string db = dbsplit::sql::quoteIdent(name_);
  if (g_admin == Admin::kManaged) {
    admin_ = name_ + "_dba";
    const std::string dba = dbsplit::sql::quoteIdent(admin_);
    su->exec("CREATE ROLE " + dba + " LOGIN CREATEROLE CREATEDB REPLICATION");
    su->exec("GRANT pg_read_all_stats TO " + dba);
    roles_.push_back(admin_);
    su->exec("CREATE DATABASE " + db + " OWNER " + dba);
    connect(sandboxDsn(name_))->exec("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
  } else {
    su->exec("CREATE DATABASE " + db);
  }
}

TestDb::~TestDb() {
  session_.reset();
  auto warn = [this](const std::string& what, const std::exception& e) {
    std::cerr << "warning: TestDb " << name_ << " cleanup: " << what << ": " << e.what() << "\n";
  };
  // Subscriptions keep a database from being dropped; detach them from their
  // slots first so DROP SUBSCRIPTION does not need the publisher.
  try {
    auto c = connect(superDsn());
    pg::Result subs = c->exec(
        "SELECT subname FROM pg_subscription s JOIN pg_database d ON d.oid = s.subdbid "
        "WHERE d.datname = current_database()");
    for (const auto& row : subs) {
      std::string sub = dbsplit::sql::quoteIdent(row[0].c_str());
      c->exec("ALTER SUBSCRIPTION " + sub + " DISABLE");
      c->exec("ALTER SUBSCRIPTION " + sub + " SET (slot_name = NONE)");
      c->exec("DROP SUBSCRIPTION " + sub);
    }
  } catch (const std::exception& e) {
    warn("dropping subscriptions", e);
  }
  // An active replication slot in the database blocks DROP DATABASE even WITH
  // (FORCE); its walsender is ended first, and the drop retried if a
  // subscriber reconnects in between.
  for (int attempt = 1; attempt <= 5; ++attempt) {
    try {
      auto c = connect(sandboxDsn());
      c->execParams(
          "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots "
          "WHERE database = $1 AND active_pid IS NOT NULL",
          name_);
      c->exec("DROP DATABASE IF EXISTS " + dbsplit::sql::quoteIdent(name_) + " WITH (FORCE)");
      break;
    } catch (const std::exception& e) {
      if (attempt == 5) warn("dropping the database", e);
      std::this_thread::sleep_for(std::chrono::milliseconds(200 * attempt));
    }
  }
  for (auto it = roles_.rbegin(); it != roles_.rend(); ++it) {
    try {
      auto c = connect(sandboxDsn());
      if (c->execParams("SELECT 1 FROM pg_roles WHERE rolname = $1", *it).empty()) continue;
      std::string role = dbsplit::sql::quoteIdent(*it);
      // Whatever the role still owns or holds in `postgres` and on shared
      // objects (databases, tablespaces) would make DROP ROLE fail.
      c->exec("REASSIGN OWNED BY " + role + " TO postgres");
      c->exec("DROP OWNED BY " + role);
      c->exec("DROP ROLE " + role);
    } catch (const std::exception& e) {
      warn("dropping role " + *it, e);
    }
  }
}

std::string TestDb::dsn() const {
  return "host=" + pg::quoteConninfoValue(sandboxDir()) + " port=" + std::to_string(sandboxPort()) +
         " user=" + pg::quoteConninfoValue(admin_) + " dbname=" + pg::quoteConninfoValue(name_);
}

std::string TestDb::superDsn() const { return sandboxDsn(name_); }

namespace {
// A superuser's session acting as `admin` (a no-op for postgres itself).
std::unique_ptr<pg::Session> asAdmin(const TestDb& db) {
  auto c = connect(db.superDsn());
  if (db.managed()) c->exec("SET ROLE " + dbsplit::sql::quoteIdent(db.adminRole()));
  return c;
}
}  // namespace

// DISCARD ALL resets everything a session can carry (settings and role,
// temporary tables, prepared statements, advisory locks, LISTEN), and fails
// when the connection is gone (a step or a test may end backends) or a
// transaction is left open: then the session is dropped, which rolls that
// transaction back as closing a connection of its own did. Run before each
// use (also the liveness check) and after it (nothing lingers between calls).
pg::Result TestDb::query(const std::string& sql) const {
  std::unique_lock<std::mutex> lock(session_mu_, std::try_to_lock);
  if (!lock.owns_lock()) return asAdmin(*this)->exec(sql);
  auto discard = [this] {
    if (!session_) return;
    try {
      session_->exec("DISCARD ALL");
    } catch (const std::exception&) {
      session_.reset();
    }
  };
  discard();
  if (!session_) session_ = connect(superDsn());
  pg::Result r;
  try {
    if (managed()) session_->exec("SET ROLE " + dbsplit::sql::quoteIdent(admin_));
    r = session_->exec(sql);
  } catch (...) {
    discard();
    throw;
  }
  discard();
  return r;
}

void TestDb::exec(const std::string& sql) const { query(sql); }

// No rows reads like NULL: "".
std::string TestDb::scalar(const std::string& sql) const {
  pg::Result r = query(sql);
  if (r.empty() || r.columns() == 0 || r[0][0].is_null()) return {};
  return r[0][0].c_str();
}

std::vector<std::vector<std::string>> TestDb::rows(const std::string& sql) const {
  pg::Result r = query(sql);
  std::vector<std::vector<std::string>> out;
  for (const auto& row : r) {
    std::vector<std::string> cells;
    for (size_t i = 0; i < row.size(); ++i) cells.emplace_back(row[i].c_str());
    out.push_back(std::move(cells));
  }
  return out;
}

std::string TestDb::schemaDump() const {
  std::string pg_dump = pgBindir() + "/pg_dump";
  std::vector<std::string> argv = {pg_dump,
                                   "--schema-only",
                                   "--no-password",
                                   "--host",
                                   sandboxDir(),
                                   "--port",
                                   std::to_string(sandboxPort()),
                                   "--username",
                                   "postgres",
                                   "--dbname",
                                   name_};
  if (pgDumpHasRestrictKey(pg_dump)) argv.push_back("--restrict-key=dbsplittest");
  Child c = spawn(argv, {}, {});
  CliResult r = collect(c);
  if (r.exit_code != 0) {
    throw std::runtime_error("pg_dump of " + name_ + " failed (exit " +
                             std::to_string(r.exit_code) + "): " + r.err);
  }
  return r.out;
}

std::string TestDb::role(const std::string& base, const std::string& options) {
  std::string name = name_ + "_" + base;
  if (name.size() > 63) {
    throw std::runtime_error("role name " + name + " is longer than 63 bytes; use a shorter base");
  }
  connect(superDsn())->exec("CREATE ROLE " + dbsplit::sql::quoteIdent(name) + " " + options);
  roles_.push_back(name);
  return name;
}

// ---- TempDir -----------------------------------------------------------------

TempDir::TempDir() {
  char tmpl[] = "/tmp/dbsplit-test-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) {
    throw std::runtime_error(std::string("mkdtemp failed: ") + std::strerror(errno));
  }
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
  if (ec) std::cerr << "warning: could not remove " << path_ << ": " << ec.message() << "\n";
}

void TempDir::write(const std::string& name, const std::string& content) const {
  fs::path p = file(name);
  std::error_code ec;
  fs::create_directories(p.parent_path(), ec);
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << content;
  out.close();
  if (!out) throw std::runtime_error("could not write " + p.string());
}

// ---- the dbsplit binary --------------------------------------------------------

CliResult runCli(const std::vector<std::string>& args,
                 const std::map<std::string, std::string>& env, const std::string& cwd) {
  Child c = spawn(withBinary(args), env, cwd);
  return collect(c);
}

BackgroundCli::BackgroundCli(const std::vector<std::string>& args,
                             const std::map<std::string, std::string>& env,
                             const std::string& cwd) {
  Child c = spawn(withBinary(args), env, cwd);
  pid_ = c.pid;
  out_fd_ = c.out_fd;
  err_fd_ = c.err_fd;
}

BackgroundCli::~BackgroundCli() {
  if (done_) return;
  ::kill(pid_, SIGKILL);
  Child c{pid_, out_fd_, err_fd_};
  collect(c);
}

CliResult BackgroundCli::wait() {
  if (done_) throw std::runtime_error("BackgroundCli::wait called twice");
  Child c{pid_, out_fd_, err_fd_};
  CliResult r = collect(c);
  out_fd_ = err_fd_ = -1;
  done_ = true;
  return r;
}

void BackgroundCli::kill9() {
  if (!done_) ::kill(pid_, SIGKILL);
}

// ---- files ---------------------------------------------------------------------

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("could not read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string fileSha256(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return {};
  return util::sha256Hex(readFile(path));
}

}  // namespace dbsplit::test
