// A PgBouncer of a test's own (transaction pooling, a Unix socket in a folder
// of its own), for tests that change its [databases] as a DBA's hook would:
// the suite's PgBouncer (pgbouncerDsn) is shared by every test. When the
// tests run as root, it runs as `postgres`, like the sandbox's servers.
#pragma once

#include <string>

namespace dbsplit::test {

class TestBouncer {
 public:
  // `databases`: the lines of its [databases] section.
  explicit TestBouncer(const std::string& databases);
  ~TestBouncer();
  TestBouncer(const TestBouncer&) = delete;
  TestBouncer& operator=(const TestBouncer&) = delete;

  const std::string& dir() const { return dir_; }
  int port() const { return port_; }
  std::string iniPath() const { return dir_ + "/pgbouncer.ini"; }
  std::string dsn(const std::string& pool, const std::string& user) const;
  std::string consoleDsn() const;
  // Its configuration with other [databases] lines, not loaded (RELOAD does).
  std::string config(const std::string& databases) const;
  // Rewrites [databases] and RELOADs through the console.
  void setDatabases(const std::string& databases);
  // SHOW DATABASES' `paused` of `pool`.
  bool paused(const std::string& pool) const;
  // SHOW POOLS' sv_login of `pool`, over its users: server connections logging in.
  int serversLoggingIn(const std::string& pool) const;
  // Sessions on the console whose application_name starts with `prefix`.
  int consoleClients(const std::string& prefix) const;

 private:
  std::string dir_;
  int port_ = 0;
};

}  // namespace dbsplit::test
