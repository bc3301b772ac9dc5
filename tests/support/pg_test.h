// Test helpers for tests that need PostgreSQL. They use the suite's sandbox
// (started by the ctest fixture `sandbox.start`, see tests/CMakeLists.txt) and
// FAIL, never skip, when it is missing: a test that cannot fail proves nothing.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "pg/session.h"
#include "pg/transaction.h"

namespace dbsplit::test {

// Tests write pg::Session, pg::Transaction, also under `using namespace dbsplit::test`.
namespace pg = dbsplit::pg;

// Values of DBSPLIT_TEST_SANDBOX_DIR / DBSPLIT_TEST_PORT; throws when unset.
std::string sandboxDir();
int sandboxPort();
// key=value DSN of the superuser `postgres` on the sandbox, database `dbname`.
std::string sandboxDsn(const std::string& dbname = "postgres");
// PgBouncer in front of the sandbox (transaction pooling; the suite's fixture
// starts it with --pgbouncer on the sandbox's port + 1) and its admin console.
int pgbouncerPort();
std::string pgbouncerDsn(const std::string& dbname, const std::string& user = "postgres");
std::string pgbouncerConsoleDsn();
// The suite's second cluster (fixture sandbox2.start: its own port and folder),
// for a database-mode split onto another server. No PgBouncer beside it.
std::string secondSandboxDir();
int secondSandboxPort();
std::string secondSandboxDsn(const std::string& dbname = "postgres",
                             const std::string& user = "postgres");
// Directory of the PostgreSQL server binaries (pg_dump, psql, pgbench).
std::string pgBindir();

// A session on `dsn` for a test's own SQL (application_name dbsplit-test);
// errors throw dbsplit::Error with the SQLSTATE, as they do for dbsplit.
std::unique_ptr<pg::Session> connect(const std::string& dsn);

// Who dbsplit connects as in the tests of this process. kSuperuser: `postgres`.
// kManaged: a role like a managed service's admin (RDS's rds_superuser, Cloud
// SQL's cloudsqlsuperuser): LOGIN CREATEROLE CREATEDB REPLICATION, a member of
// pg_read_all_stats, owner of the test database and of what the fixture
// loads; the superuser only creates it and the extensions, as a provider does.
enum class Admin { kSuperuser, kManaged };
// Set at the top of a test case (each ctest entry is its own process); the
// TestDbs made afterwards follow it.
void useAdmin(Admin admin);
Admin currentAdmin();

// A fresh database per test, dropped (WITH (FORCE)) at the end, together with
// every role made through role(). Roles are cluster-wide, so their names carry
// the database name to keep parallel tests apart.
class TestDb {
 public:
  TestDb();
  ~TestDb();
  TestDb(const TestDb&) = delete;
  TestDb& operator=(const TestDb&) = delete;

  const std::string& name() const { return name_; }
  // DSN of this database as the admin dbsplit connects as (currentAdmin()).
  std::string dsn() const;
  // The superuser's, for a test's own checks that need it (SET ROLE to any role).
  std::string superDsn() const;
  // The role dsn() connects as: `postgres`, or the managed admin.
  const std::string& adminRole() const { return admin_; }
  bool managed() const { return admin_ != "postgres"; }
  // A session of its own, for a test that holds a connection (a transaction
  // kept open, a persistent writer).
  std::unique_ptr<pg::Session> session() const { return connect(dsn()); }

  // As adminRole() (what it creates, it owns), in a superuser's session: the
  // SQL may SET ROLE to any role to act as it, and SET ROLE adminRole() back.
  // Each call sees a session as good as new and leaves nothing behind (no
  // setting, lock, temporary table or open transaction), as if it had
  // connected for itself; the connection is reused, since a backend costs
  // more than most test queries.
  void exec(const std::string& sql) const;           // autocommit, may hold several statements
  std::string scalar(const std::string& sql) const;  // first column of the first row, "" for NULL
  std::vector<std::vector<std::string>> rows(const std::string& sql) const;

  // `pg_dump --schema-only` of this database (owners, ACLs and comments included).
  std::string schemaDump() const;

  // Creates `<dbname>_<base>` (LOGIN, with `options` appended to CREATE ROLE) and
  // returns its name; dropped with the database.
  std::string role(const std::string& base, const std::string& options = "LOGIN");
  // A role that something else creates (dbsplit's group roles), dropped at the
  // end like those made through role() when it exists by then.
  void dropsRole(const std::string& name) { roles_.push_back(name); }

 private:
  pg::Result query(const std::string& sql) const;

  std::string name_;
  std::string admin_ = "postgres";
  std::vector<std::string> roles_;
  // The session query() reuses; a call made while another thread's runs
  // connects for itself.
  mutable std::mutex session_mu_;
  mutable std::unique_ptr<pg::Session> session_;
};

class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  void write(const std::string& name, const std::string& content) const;

 private:
  std::string path_;
};

struct CliResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs the dbsplit binary (DBSPLIT_BINARY) with `args`, extra `env` and `cwd`,
// with stdin from /dev/null (no TTY), and waits for it.
CliResult runCli(const std::vector<std::string>& args,
                 const std::map<std::string, std::string>& env = {}, const std::string& cwd = {});

// A dbsplit process running in the background, for lock and kill tests.
class BackgroundCli {
 public:
  BackgroundCli(const std::vector<std::string>& args,
                const std::map<std::string, std::string>& env = {}, const std::string& cwd = {});
  ~BackgroundCli();  // kills it (SIGKILL) if still running
  int pid() const { return pid_; }
  CliResult wait();  // waits and collects output
  void kill9();

 private:
  int pid_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  bool done_ = false;
};

std::string readFile(const std::string& path);
std::string fileSha256(const std::string& path);  // "" when the file does not exist

}  // namespace dbsplit::test
