// PgBouncer's admin console (its `pgbouncer` database): the commands dbsplit
// uses around a split. `[step.split] pgbouncer` names the console's DSN.
// The console speaks only the simple query protocol and takes no startup
// options, so its session is opened bare (pg::ConnectOptions::console).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "pg/session.h"

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

  // Server connections PgBouncer is opening for `pool` and has not finished
  // logging in (SHOW POOLS' sv_login, over the pool's users).
  int serversLoggingIn(const std::string& pool);
  // RECONNECT: every server connection of `pool` closes once released and is
  // opened again on demand, with the roles' current settings. Sent only at a
  // moment `pool` has no server connection logging in (console.cc says why),
  // waiting for one at most `bound` and calling `check_alive` (when set)
  // between looks; false, and nothing sent, when the bound ran out.
  bool reconnect(const std::string& pool, std::chrono::milliseconds bound,
                 const std::function<void()>& check_alive);
  // Holds new transactions of `pool` at once (clients wait, they see no
  // error) and waits until its server connections are idle. PgBouncer's PAUSE
  // has no timeout of its own: when the pool is not idle within `bound`, it
  // is resumed and this throws Error(kStepFailed, "pgbouncer_pause_timeout").
  // The PAUSE then runs on a session of its own, on a thread left behind until
  // PgBouncer answers it or the process ends.
  void pause(const std::string& pool, std::chrono::milliseconds bound);
  // RESUME, when the pool is paused (PgBouncer refuses to resume a pool that
  // is not): repeatable.
  void resume(const std::string& pool);

 private:
  Console(std::unique_ptr<pg::Session> s, std::string dsn, std::string application)
      : s_(std::move(s)), dsn_(std::move(dsn)), application_(std::move(application)) {}
  void command(const std::string& verb, const std::string& pool);
  std::unique_ptr<pg::Session> s_;
  std::string dsn_;
  std::string application_;
};

}  // namespace dbsplit::pgbouncer
