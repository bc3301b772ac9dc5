#include "engine/executor.h"

#include <chrono>
#include <regex>
#include <set>
#include <thread>

#include "engine/fault.h"
#include "engine/markers.h"
#include "engine/mover.h"
#include "fmt/format.h"
#include "util/time.h"

namespace dbsplit::engine {
namespace {

std::string setLockTimeout(int ms, bool local) {
  return fmt::format("SET {}lock_timeout = '{}ms'", local ? "LOCAL " : "", ms);
}

bool isLockTimeout(const Error& e) { return e.sqlstate() == pg::kLockNotAvailable; }

void rollbackQuietly(pg::Session& s) {
  try {
    s.exec("ROLLBACK");
  } catch (const Error&) {
    // The connection may be gone; the server rolled back anyway.
  }
}

void requireVerified(pg::Session& s, const Action& action) {
  if (!action.verify.empty() && !markers::verified(s, action.verify)) {
    throw Error::stepFailed(
        "verify_failed",
        fmt::format("{} ran but its verify query says the effect is missing", action.id),
        "inspect the object by hand, then `dbsplit resume`");
  }
}

// CREATE [UNIQUE] INDEX CONCURRENTLY: a failure or a kill half-way leaves an
// INVALID index under the name, which `IF NOT EXISTS` then takes for done.
bool buildsIndexConcurrently(const std::string& sql) {
  static const std::regex kCic(R"(^\s*CREATE\s+(UNIQUE\s+)?INDEX\s+CONCURRENTLY\b)",
                               std::regex::icase);
  return std::regex_search(sql, kCic);
}

// Whether the journal shows `id` started before this attempt (a failed or
// killed run, now retried or resumed).
bool startedBefore(const journal::Journal* journal, const std::string& step,
                   const std::string& id) {
  if (journal == nullptr) return false;
  for (const auto& r : journal->actions(step)) {
    if (r.id == id) return !r.started_at.empty();
  }
  return false;
}

}  // namespace

void ApplyExecutor::withLockRetries(const Action& action, const char* direction,
                                    const std::function<void()>& attempt) {
  Backoff backoff(ctx_.backoff);
  for (int n = 1;; ++n) {
    try {
      attempt();
      return;
    } catch (const Error& e) {
      if (!isLockTimeout(e) || n >= backoff.policy().max_tries) {
        if (isLockTimeout(e)) {
          throw Error(ExitCode::kStepFailed, "lock_timeout",
                      fmt::format("{}: could not take {} within {} ms after {} tries", action.id,
                                  action.lock.str(), ctx_.lock_timeout_ms, n),
                      "something holds a conflicting lock; find it in pg_locks / "
                      "pg_stat_activity, then `dbsplit resume` (or raise --lock-timeout / "
                      "--lock-retries)",
                      e.sqlstate());
        }
        throw;
      }
      std::int64_t wait = backoff.delayMs(n + 1);
      ctx_.out->event(
          {{"event", "retry"},
           {"step", ctx_.step},
           {"action", action.id},
           {"direction", direction},
           {"attempt", n + 1},
           {"max_tries", backoff.policy().max_tries},
           {"sqlstate", e.sqlstate()},
           {"wait_ms", wait}},
          fmt::format("  retry {}/{} {}: lock not available within {} ms; next try "
                      "in {} ms",
                      n + 1, backoff.policy().max_tries, action.id, ctx_.lock_timeout_ms, wait));
      std::this_thread::sleep_for(std::chrono::milliseconds(wait));
    }
  }
}

pg::Session& ApplyExecutor::sessionFor(const Action& action) {
  if (!ctx_.targets) return *ctx_.session;
  ctx_.targets->ensureMarkers(action.database, ctx_.lock_timeout_ms);
  return ctx_.targets->session(action.database);
}

void ApplyExecutor::runTransactional(pg::Session& s, const Action& action, const std::string& sql,
                                     bool forward) {
  // One round trip: the statement, its marker and the COMMIT travel together,
  // so an action costs what the bare statement costs plus one row. PostgreSQL
  // stops at the first error and leaves the transaction aborted; we roll back.
  std::string batch =
      fmt::format("BEGIN;\n{};\n{};\n{};\nCOMMIT;", setLockTimeout(ctx_.lock_timeout_ms, true), sql,
                  forward ? markers::insertSql(ctx_.migration, action.id, action.sha256)
                          : markers::deleteSql(ctx_.migration, action.id));
  withLockRetries(action, forward ? "forward" : "inverse", [&] {
    try {
      s.exec(batch);
    } catch (const Error&) {
      rollbackQuietly(s);
      throw;
    }
  });
}

void ApplyExecutor::runNonTransactional(pg::Session& s, const Action& action,
                                        const std::string& sql, bool forward) {
  // An index built concurrently that an earlier attempt left INVALID (its
  // verify query, false here, checks indisvalid) is dropped by the action's
  // inverse (DROP INDEX CONCURRENTLY IF EXISTS) before it is built again. Only
  // after an attempt of dbsplit's own: this run's (a lock timeout) or one
  // the journal shows started (a failed or killed run).
  const bool rebuild = forward && !action.inverse.empty() && buildsIndexConcurrently(sql);
  bool tried = rebuild && started_before_;
  withLockRetries(action, forward ? "forward" : "inverse", [&] {
    s.exec(setLockTimeout(ctx_.lock_timeout_ms, false));
    try {
      if (tried) {
        ctx_.out->event({{"event", "action_cleanup"},
                         {"step", ctx_.step},
                         {"action", action.id},
                         {"sql", action.inverse}},
                        fmt::format("  drop what an earlier attempt of {} left half-built: {}",
                                    action.id, action.inverse));
        s.exec(action.inverse);
      }
      tried = rebuild;
      s.exec(sql);
    } catch (const Error&) {
      s.exec("RESET lock_timeout");
      throw;
    }
    s.exec("RESET lock_timeout");
  });
  if (forward) {
    requireVerified(s, action);
    s.execParams(markers::kInsert, ctx_.migration, action.id, action.sha256);
  } else {
    s.execParams(markers::kDelete, ctx_.migration, action.id);
  }
}

MoverContext ApplyExecutor::moverContext(const Action& action) {
  std::string main_dsn = ctx_.targets ? ctx_.targets->dsn("") : std::string();
  MoverContext mc{*ctx_.plan, action, *ctx_.out, {}, {}, 500, {}, nullptr, {}, {}};
  mc.main_dsn = main_dsn;
  mc.target_dsn = ctx_.targets ? ctx_.targets->dsn(action.database) : main_dsn;
  mc.lock_timeout_ms = ctx_.lock_timeout_ms;
  mc.application_name = fmt::format("dbsplit/{}/{}", ctx_.migration, ctx_.step);
  mc.journal = ctx_.journal;
  RunLock* lock = ctx_.lock;
  mc.check_alive = [lock] {
    if (lock) lock->checkAlive();
  };
  journal::Journal* journal = ctx_.journal;
  const std::string key = noAutoRollbackKey(ctx_.step);
  const std::string id = action.id;
  mc.point_of_no_return = [journal, key, id] {
    if (journal) journal->setMeta(key, id);
  };
  return mc;
}

void ApplyExecutor::runMover(pg::Session& s, const Action& action) {
  const MoverFn& mover = findMover(action.mover);
  MoverContext mc = moverContext(action);
  mover(mc);
  requireVerified(s, action);
  s.execParams(markers::kInsert, ctx_.migration, action.id, action.sha256);
}

ApplyExecutor::~ApplyExecutor() {
  try {
    finish();
  } catch (const std::exception&) {
    // Only reached while another error unwinds; the markers remain the truth.
  }
}

void ApplyExecutor::record(std::vector<Outcome> changes) {
  if (deferred_) {
    changes.insert(changes.begin(), *deferred_);
    deferred_.reset();
  }
  ctx_.journal->transaction([&] {
    if (ctx_.in_journal_transaction) ctx_.in_journal_transaction();
    for (const auto& c : changes) {
      ctx_.journal->setActionStatus(ctx_.step, c.id, c.status, c.duration_ms, c.error);
    }
  });
}

void ApplyExecutor::finish() {
  if (deferred_) record({});
}

void ApplyExecutor::apply(const Action& action) {
  if (ctx_.lock) ctx_.lock->checkAlive();
  auto start = std::chrono::steady_clock::now();
  started_before_ = !action.transactional && buildsIndexConcurrently(action.forward) &&
                    startedBefore(ctx_.journal, ctx_.step, action.id);
  record({{action.id, journal::ActionStatus::kStarted, 0, {}}});
  faultPoint(action.id, FaultPoint::kBefore);
  try {
    // A non-transactional action may have run before a crash: its verify query
    // makes it idempotent.
    pg::Session& s = sessionFor(action);
    bool transactional = action.transactional && action.mover.empty();
    bool already =
        !transactional && !action.verify.empty() && s.scalar(action.verify).value_or("f") == "t";
    if (already) {
      s.execParams(markers::kInsert, ctx_.migration, action.id, action.sha256);
    } else if (!action.mover.empty()) {
      runMover(s, action);
    } else if (transactional) {
      runTransactional(s, action, action.forward, true);
    } else {
      runNonTransactional(s, action, action.forward, true);
    }
  } catch (const Error& e) {
    record({{action.id, journal::ActionStatus::kFailed, util::millisSince(start), e.what()}});
    throw;
  }
  faultPoint(action.id, FaultPoint::kAfter);
  deferred_ = Outcome{action.id, journal::ActionStatus::kApplied, util::millisSince(start), {}};
}

void ApplyExecutor::revert(const Action& action) {
  if (action.irreversible()) {
    throw Error::precondition("irreversible", action.id + " is irreversible and cannot be undone");
  }
  if (ctx_.lock) ctx_.lock->checkAlive();
  auto start = std::chrono::steady_clock::now();
  record({{action.id, journal::ActionStatus::kRollingBack, 0, {}}});
  faultPoint(action.id, FaultPoint::kBefore);
  try {
    pg::Session& s = sessionFor(action);
    if (const MoverFn* undo = action.mover.empty() ? nullptr : findUndo(action.mover)) {
      // Undone outside the database (engine/mover.h): `inverse` only describes it.
      MoverContext mc = moverContext(action);
      (*undo)(mc);
      s.execParams(markers::kDelete, ctx_.migration, action.id);
    } else if (action.transactional && action.mover.empty()) {
      runTransactional(s, action, action.inverse, false);
    } else {
      runNonTransactional(s, action, action.inverse, false);
    }
  } catch (const Error& e) {
    record({{action.id, journal::ActionStatus::kFailed, util::millisSince(start), e.what()}});
    throw;
  }
  faultPoint(action.id, FaultPoint::kAfter);
  deferred_ = Outcome{action.id, journal::ActionStatus::kRolledBack, util::millisSince(start), {}};
}

void RehearseExecutor::begin() { ctx_.session->exec("BEGIN"); }

void RehearseExecutor::apply(const Action& action) {
  pg::Session& s = *ctx_.session;
  // A rehearsal is one transaction on the migration's database: what runs
  // elsewhere or is not one transaction cannot be part of it.
  const char* skip = !action.mover.empty()      ? "a data mover"
                     : !action.transactional    ? "not transactional"
                     : !action.database.empty() ? "runs on another database"
                                                : nullptr;
  if (skip) {
    ctx_.out->event(
        {{"event", "rehearsal"},
         {"step", ctx_.step},
         {"action", action.id},
         {"skipped", true},
         {"reason", skip}},
        fmt::format("  skipped  {}  ({}: cannot run inside a rehearsal)", action.id, skip));
    return;
  }
  // Locks held before the action, to report only what this action added.
  const char* kLocks =
      "SELECT l.mode || ' on ' || CASE WHEN l.locktype = 'relation'"
      "         THEN (SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname)"
      "                 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
      "                WHERE c.oid = l.relation)"
      "         ELSE l.locktype END"
      "  FROM pg_locks l"
      " WHERE l.pid = pg_backend_pid() AND l.granted"
      "   AND l.locktype IN ('relation', 'object')"
      "   AND (l.locktype <> 'relation' OR l.relation NOT IN"
      "        (SELECT oid FROM pg_class WHERE relnamespace = 'pg_catalog'::regnamespace))"
      " ORDER BY 1";
  std::set<std::string> before;
  for (const auto& row : s.exec(kLocks)) before.insert(row[0].c_str());
  Backoff backoff(ctx_.backoff);
  auto start = std::chrono::steady_clock::now();
  pg::Result r;
  for (int n = 1;; ++n) {
    try {
      s.exec("SAVEPOINT dbsplit_rehearsal");
      s.exec(setLockTimeout(ctx_.lock_timeout_ms, true));
      r = s.exec(action.forward);
      s.exec("RELEASE SAVEPOINT dbsplit_rehearsal");
      break;
    } catch (const Error& e) {
      s.exec("ROLLBACK TO SAVEPOINT dbsplit_rehearsal");
      if (!isLockTimeout(e) || n >= backoff.policy().max_tries) throw;
      std::int64_t wait = backoff.delayMs(n + 1);
      ctx_.out->event({{"event", "retry"},
                       {"step", ctx_.step},
                       {"action", action.id},
                       {"attempt", n + 1},
                       {"max_tries", backoff.policy().max_tries},
                       {"sqlstate", e.sqlstate()},
                       {"wait_ms", wait}},
                      fmt::format("  retry {}/{} {}: lock not available", n + 1,
                                  backoff.policy().max_tries, action.id));
      std::this_thread::sleep_for(std::chrono::milliseconds(wait));
    }
  }
  std::int64_t ms = util::millisSince(start);
  std::vector<std::string> added;
  for (const auto& row : s.exec(kLocks)) {
    if (!before.count(row[0].c_str())) added.push_back(row[0].c_str());
  }
  std::int64_t rows = static_cast<std::int64_t>(r.affected_rows());
  std::string locks_text;
  for (const auto& l : added) locks_text += (locks_text.empty() ? "" : ", ") + l;
  ctx_.out->event({{"event", "rehearsal"},
                   {"step", ctx_.step},
                   {"action", action.id},
                   {"locks", added},
                   {"rows", rows},
                   {"ms", ms}},
                  fmt::format("  ok  {}  {} ms, {} rows, locks: {}", action.id, ms, rows,
                              locks_text.empty() ? "none" : locks_text));
}

void RehearseExecutor::finish() { ctx_.session->exec("ROLLBACK"); }

void DryRunExecutor::apply(const Action& action) {
  std::string where = action.database.empty()
                          ? ""
                          : "--   runs on: the database of service " + action.database + "\n";
  if (!action.mover.empty()) {
    where += "--   data mover: " + action.mover + " " + action.mover_args + "\n";
  }
  std::string human =
      fmt::format("-- {}{}\n--   lock: {}{}\n{}{}\n", action.id,
                  action.description.empty() ? "" : ": " + action.description, action.lock.str(),
                  action.transactional && action.mover.empty() ? "" : " (not transactional)", where,
                  action.forward);
  human += action.irreversible() ? "--   inverse: none (irreversible)\n"
                                 : "--   inverse:\n" + action.inverse + "\n";
  if (!action.verify.empty()) human += "--   verify: " + action.verify + "\n";
  ctx_.out->event({{"event", "action"},
                   {"step", ctx_.step},
                   {"id", action.id},
                   {"status", "would_apply"},
                   {"description", action.description},
                   {"forward", action.forward},
                   {"inverse", action.inverse},
                   {"lock", action.lock.str()},
                   {"transactional", action.transactional},
                   {"verify", action.verify},
                   {"database", action.database},
                   {"mover", action.mover},
                   {"sha256", action.sha256}},
                  human);
}

}  // namespace dbsplit::engine
