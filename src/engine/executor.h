// How an action is carried out. The engine picks one executor per run (ninja's
// DryRunCommandRunner idea): steps never know which.
//   ApplyExecutor     journal + transaction + marker, lock_timeout and retries;
//   RehearseExecutor  everything inside one BEGIN ... ROLLBACK, reporting locks;
//   DryRunExecutor    prints what would run; touches nothing.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/action.h"
#include "engine/backoff.h"
#include "engine/mover.h"
#include "engine/run_lock.h"
#include "engine/targets.h"
#include "journal/journal.h"
#include "pg/session.h"
#include "util/reporter.h"

namespace dbsplit::engine {

struct ExecContext {
  pg::Session* session = nullptr;  // the migration's database (rehearse, dry-run)
  Targets* targets = nullptr;      // apply: every database the actions run on
  const plan::Plan* plan = nullptr;
  journal::Journal* journal = nullptr;  // null for dry-run and rehearse
  util::Reporter* out = nullptr;
  RunLock* lock = nullptr;  // null for dry-run
  std::string migration;
  std::string step;
  int lock_timeout_ms = 500;
  BackoffPolicy backoff;
  // Called inside every journal transaction the executor opens (the run's
  // buffered events ride along with it).
  std::function<void()> in_journal_transaction;
};

// The journal meta key that holds the action after which `step` is never
// rolled back by a failing run itself (MoverContext::point_of_no_return).
inline std::string noAutoRollbackKey(const std::string& step) { return "no_auto_rollback:" + step; }

class Executor {
 public:
  explicit Executor(ExecContext ctx) : ctx_(std::move(ctx)) {}
  virtual ~Executor() = default;
  virtual void begin() {}
  // Carries out one action; throws Error when it fails.
  virtual void apply(const Action& action) = 0;
  virtual void finish() {}

 protected:
  ExecContext ctx_;
};

class ApplyExecutor : public Executor {
 public:
  using Executor::Executor;
  ~ApplyExecutor() override;
  void apply(const Action& action) override;
  // Runs the inverse of an applied action and removes its marker.
  void revert(const Action& action);
  // Writes the last action's outcome to the journal. Call when done.
  void finish() override;

 private:
  // The journal records an action's outcome in the same transaction as the
  // next action's `started` (one fsync per action instead of two). The outcome
  // is still written after the action committed, and `started` still before
  // the next one runs; the markers are the truth for anything in between.
  struct Outcome {
    std::string id;
    journal::ActionStatus status;
    std::int64_t duration_ms = 0;
    std::string error;
  };
  void record(std::vector<Outcome> changes);
  std::optional<Outcome> deferred_;
  // The action being applied was started before (journal): what it left
  // half-built may need clearing (runNonTransactional).
  bool started_before_ = false;

  // Runs `attempt` until it succeeds, retrying on lock timeouts (55P03) with
  // backoff; each retry is reported as a `retry` event.
  void withLockRetries(const Action& action, const char* direction,
                       const std::function<void()>& attempt);
  void runTransactional(pg::Session& s, const Action& action, const std::string& sql, bool forward);
  void runNonTransactional(pg::Session& s, const Action& action, const std::string& sql,
                           bool forward);
  void runMover(pg::Session& s, const Action& action);
  MoverContext moverContext(const Action& action);
  // The session of the database the action runs on, its marker table ensured.
  pg::Session& sessionFor(const Action& action);
};

class RehearseExecutor : public Executor {
 public:
  using Executor::Executor;
  void begin() override;
  void apply(const Action& action) override;
  void finish() override;  // ROLLBACK
};

class DryRunExecutor : public Executor {
 public:
  using Executor::Executor;
  void apply(const Action& action) override;
};

}  // namespace dbsplit::engine
