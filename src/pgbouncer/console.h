// PgBouncer's admin console (its `pgbouncer` database): the commands dbsplit
// uses around a split. `[step.split] pgbouncer` names the console's DSN.
// The console is no PostgreSQL server: it is reached through a bare libpq
// connection (pg::PlainConnection).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "pg/plain.h"

namespace dbsplit::pgbouncer {

// One entry of SHOW DATABASES: a pool name and the server database behind it.
struct Pool {
  std::string name;
  std::string database;
  bool paused = false;
};

class Console {
 public:
  // Throws Error(kPrecondition, "connection_failed") when the console cannot
  // be reached, or "pgbouncer_console" when the DSN names something else.
  static std::unique_ptr<Console> open(const std::string& dsn, const std::string& application);

  std::vector<Pool> pools();
  // The pools whose server database is `database` (an application may use
  // another name for it, or the `*` fallback, which lists each used name).
  std::vector<std::string> poolsFor(const std::string& database);

  // Every server connection of `pool` closes once released and is opened
  // again on demand: the new connection gets the roles' current settings.
  void reconnect(const std::string& pool);
  // Waits until the pool's server connections are idle, then holds new
  // transactions (clients wait, they see no error) until resume.
  void pause(const std::string& pool);
  void resume(const std::string& pool);

 private:
  explicit Console(std::unique_ptr<pg::PlainConnection> c) : c_(std::move(c)) {}
  void command(const std::string& verb, const std::string& pool);
  std::unique_ptr<pg::PlainConnection> c_;
};

}  // namespace dbsplit::pgbouncer
