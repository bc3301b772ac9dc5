#include "engine/run_lock.h"

#include <chrono>

#include "fmt/format.h"
#include "util/hash.h"

namespace dbsplit::engine {
namespace {

constexpr int kDbsplitClassId = 0x64627370 & 0x7fffffff;  // "dbsp"

}  // namespace

LockKey lockKeyFor(const std::string& migration) {
  std::string h = util::sha256Hex("dbsplit-run-lock:" + migration);
  int objid = static_cast<int>(std::stoul(h.substr(0, 8), nullptr, 16) & 0x7fffffffu);
  return {kDbsplitClassId, objid};
}

std::optional<LockHolder> RunLock::holder(pg::Session& session, const std::string& migration) {
  LockKey key = lockKeyFor(migration);
  pg::Result r = session.execParams(
      "SELECT a.pid, coalesce(a.application_name, ''),"
      "       coalesce(host(a.client_addr), 'local socket'),"
      "       to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
      "  FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
      " WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2"
      "   AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
      "   AND l.classid = $1::int8::oid AND l.objid = $2::int8::oid",
      key.classid, key.objid);
  if (r.empty()) return std::nullopt;
  LockHolder h;
  h.pid = r[0][0].as<int>();
  h.application_name = r[0][1].c_str();
  h.client = r[0][2].c_str();
  h.since = r[0][3].c_str();
  return h;
}

std::unique_ptr<RunLock> RunLock::acquire(const pg::ConnectOptions& options,
                                          const std::string& migration) {
  auto session = pg::Session::connect(options);
  LockKey key = lockKeyFor(migration);
  auto got = session->scalar("SELECT pg_try_advisory_lock($1, $2)", key.classid, key.objid);
  if (got && *got == "t") {
    return std::unique_ptr<RunLock>(new RunLock(std::move(session), migration));
  }
  auto h = holder(*session, migration);
  std::string who =
      h ? fmt::format("pid {} ({}), from {}, since {}", h->pid,
                      h->application_name.empty() ? "no application_name" : h->application_name,
                      h->client, h->since)
        : "a session that has just ended";
  throw Error(ExitCode::kLocked, "run_lock_held",
              fmt::format("another dbsplit run holds the lock of migration {}: {}", migration, who),
              h ? fmt::format("wait for it to finish; if it is stuck, "
                              "SELECT pg_terminate_backend({}) ends it and `dbsplit resume` "
                              "picks up",
                              h->pid)
                : "try again");
}

RunLock::RunLock(std::unique_ptr<pg::Session> session, std::string migration)
    : session_(std::move(session)), migration_(std::move(migration)) {}

void RunLock::checkAlive() {
  // A round trip per action would cost as much as a small action; ten checks a
  // second bound the window in which a lost lock goes unnoticed.
  auto now = std::chrono::steady_clock::now();
  if (now - last_check_ < std::chrono::milliseconds(100)) return;
  last_check_ = now;
  if (session_->ping()) return;
  throw Error::stepFailed("run_lock_lost",
                          "lost the connection that holds the run lock of " + migration_,
                          "run `dbsplit status`, then `dbsplit resume`");
}

}  // namespace dbsplit::engine
