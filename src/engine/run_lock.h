// One run per migration (DESIGN §5.1): a session-level advisory lock held on a
// dedicated connection for the whole run. The server releases it when that
// connection ends, so a killed run never leaves a stale lock.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "pg/session.h"

namespace dbsplit::engine {

struct LockHolder {
  int pid = 0;
  std::string application_name;
  std::string client;  // address, or "local socket"
  std::string since;   // when its connection started (it took the lock at once)
};

// The advisory lock key of a migration (two int4 halves: a dbsplit constant and
// a hash of the migration name).
struct LockKey {
  int classid;
  int objid;
};
LockKey lockKeyFor(const std::string& migration);

class RunLock {
 public:
  // Takes the lock or throws Error(kLocked, "run_lock_held") naming the holder.
  static std::unique_ptr<RunLock> acquire(const pg::ConnectOptions& options,
                                          const std::string& migration);
  // The current holder, if any (used by `status`).
  static std::optional<LockHolder> holder(pg::Session& session, const std::string& migration);

  // Polled between actions: throws Error(kStepFailed, "run_lock_lost") when the
  // lock's connection has died, because another run could now start.
  void checkAlive();

 private:
  RunLock(std::unique_ptr<pg::Session> session, std::string migration);
  std::unique_ptr<pg::Session> session_;
  std::string migration_;
  std::chrono::steady_clock::time_point last_check_{};
};

}  // namespace dbsplit::engine
