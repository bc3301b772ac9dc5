// The engine (DESIGN §2, §5): the only code that changes the schema or the
// journal. It plans a step through its Step, picks an executor for the mode,
// holds the run lock, journals every action before and after, reconciles the
// journal with the database's markers on resume and status, and rolls back in
// reverse order.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "engine/backoff.h"
#include "engine/executor.h"
#include "engine/run_lock.h"
#include "engine/step.h"
#include "engine/targets.h"
#include "journal/journal.h"
#include "plan/inputs_diff.h"
#include "plan/plan.h"
#include "util/outcome.h"
#include "util/reporter.h"

namespace dbsplit::engine {

class RunScope;

struct EngineConfig {
  std::string dsn;  // what to connect to (may hold a password: never printed)
  int lock_timeout_ms = 500;
  int lock_retries = 10;
  bool yes = false;
  // Asks a yes/no question on the terminal; empty when there is no TTY.
  std::function<bool(const std::string& question)> ask;
};

enum class Mode { kApply, kDryRun, kRehearse };

class Runner {
 public:
  Runner(const plan::Plan& plan, EngineConfig config, util::Reporter& out, StepList steps);

  util::Outcome run(const std::string& step, Mode mode);
  util::Outcome runNext(Mode mode);
  util::Outcome runAll(Mode mode);
  util::Outcome rollback(const std::string& step);
  util::Outcome resume();
  util::Outcome status();
  util::Outcome showPlan(const std::string& step);  // empty: every step
  // A few lines on `step`: its actions counted per kind, the locks they take,
  // and its gates evaluated now (walk's first screen; the SQL is showPlan's).
  util::Outcome preview(const std::string& step);
  util::Outcome showLog(int limit);

  // Applied steps whose inputs differ from the plan's now: one headline per
  // step, then one line per plan entry added, removed or changed (when the
  // journal kept the inputs the step was applied with).
  struct StepDrift {
    std::string step;
    std::vector<std::string> lines;
    std::vector<plan::InputChange> changes;
  };
  // The same from the journal on disk, read-only (empty when there is none yet).
  std::vector<StepDrift> planDriftNow() const;

 private:
  const Step& findStep(const std::string& name) const;
  pg::ConnectOptions connectOptions(const std::string& step, bool read_only) const;
  std::unique_ptr<journal::Journal> openJournal(bool write) const;  // null: none yet (read-only)
  void checkJournalOwner(journal::Journal& journal) const;
  std::string inputsHash(const Step& step) const;
  std::vector<StepDrift> planDriftByStep(const journal::Journal& journal) const;
  std::vector<std::string> planDrift(const journal::Journal& journal) const;
  std::vector<std::string> unmetPredecessors(const Step& step,
                                             const journal::Journal* journal) const;
  // True when the journal's unfinished runs are all dbsplit processes that no
  // longer exist (killed): their lock is about to be released.
  bool lockHolderIsGone(const journal::Journal* journal) const;
  // Takes the run lock; when another run holds it, the error also names that
  // run's dbsplit process from the journal (pg_locks only knows the backend).
  std::unique_ptr<RunLock> acquireLock(const std::string& step,
                                       const journal::Journal* journal) const;
  // Refuses (exit 3) a standby or a read-only database before anything runs.
  void requireWritable(pg::Session& session) const;
  void confirmIfNeeded(const std::string& step, const std::vector<Action>& actions) const;
  // Asks `question` on the terminal, or needs --yes; otherwise throws exit 5
  // with `no_tty` and `hint`.
  void confirm(const std::string& question, const std::string& no_tty,
               const std::string& hint) const;
  void checkGates(const Step& step, const PlanContext& ctx) const;
  // Stores the step's records (StepRecordData) and remembers their ids so that
  // rollback can delete them.
  void storeRecords(journal::Journal& journal, const Step& step, const PlanContext& ctx) const;
  void deleteRecords(journal::Journal& journal, const std::string& step) const;
  std::string nextPendingStep(const journal::Journal* journal) const;
  std::vector<std::string> nextStepsAfterApply(const std::string& step,
                                               const journal::Journal* journal) const;

  util::Outcome dryRun(const Step& step);
  util::Outcome rehearse(const Step& step);
  util::Outcome apply(const Step& step);
  // Reverts `actions` (already reconciled) in reverse order; returns how many.
  int revertApplied(journal::Journal& journal, Targets& targets, RunLock* lock,
                    const std::string& step, const std::vector<journal::ActionRecord>& actions);
  // Runs pending actions of `records` in order.
  void applyPending(journal::Journal& journal, Targets& targets, RunLock* lock,
                    const std::string& step, const std::vector<journal::ActionRecord>& records);
  // The end of every rollback: the step's records go, its status becomes
  // rolled_back, an empty marker table is dropped, and the run closes.
  util::Outcome finishRollback(journal::Journal& journal, Targets& targets, RunScope& scope,
                               const std::string& name, int undone,
                               std::chrono::steady_clock::time_point start);
  // Brings the journal's view of `step` in line with the database's markers and
  // verify queries; returns the reconciled records.
  std::vector<journal::ActionRecord> reconcile(journal::Journal& journal, Targets& targets,
                                               const std::string& step);
  std::int64_t beginRun(journal::Journal& journal, const std::string& command,
                        const std::string& step, const std::string& mode);
  void endRun(journal::Journal& journal, std::int64_t run_id, ExitCode code);

  // The journaled run in progress, if any: executors flush its buffered events
  // inside their journal transactions.
  RunScope* scope_ = nullptr;
  // Actions reconcile found interrupted (started or failed, no marker) whose
  // mover has an undo: rollback undoes them too (engine/mover.h).
  std::set<std::string> interrupted_undos_;
  ExecContext execContext(journal::Journal& journal, Targets& targets, RunLock* lock,
                          const std::string& step) const;

  const plan::Plan& plan_;
  EngineConfig config_;
  util::Reporter& out_;
  StepList steps_;
};

}  // namespace dbsplit::engine
