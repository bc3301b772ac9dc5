// Runner: the way back and the way out of a crash. rollback reverses a step in
// reverse order; resume finishes whichever direction was interrupted; both start
// by reconciling the journal with what the database says committed.
#include <algorithm>
#include <chrono>
#include <map>

#include "engine/executor.h"
#include "engine/integrity.h"
#include "engine/markers.h"
#include "engine/mover.h"
#include "engine/run_lock.h"
#include "engine/run_scope.h"
#include "engine/runner.h"
#include "fmt/format.h"
#include "pg/conninfo.h"
#include "util/text.h"
#include "util/time.h"

namespace dbsplit::engine {

using journal::ActionStatus;
using journal::StepStatus;

std::vector<journal::ActionRecord> Runner::reconcile(journal::Journal& journal, Targets& targets,
                                                     const std::string& step) {
  std::map<std::string, std::set<std::string>> present;  // per database
  std::vector<journal::ActionRecord> records = journal.actions(step);
  // Before any of the journal's SQL runs, verify queries included.
  checkIntegrity(records, targets, plan_.migration.name, step);
  std::vector<std::string> drift;
  for (auto& r : records) {
    if (!present.count(r.database)) {
      present[r.database] = targets.markers(r.database, plan_.migration.name);
    }
    pg::Session* session = targets.existing(r.database);
    bool there = session && markers::effectPresent(*session, present[r.database], r);
    ActionStatus truth = r.status;
    switch (r.status) {
      case ActionStatus::kApplied:
        if (!there) drift.push_back(r.id + ": the journal says applied, the database lacks it");
        break;
      case ActionStatus::kRolledBack:
        if (there) drift.push_back(r.id + ": the journal says rolled back, the database has it");
        break;
      case ActionStatus::kStarted:
      case ActionStatus::kFailed:
        // A mover may have acted outside the database before its marker
        // committed: rollback calls its undo, which is safe either way.
        if (!there && !r.mover.empty() && findUndo(r.mover)) interrupted_undos_.insert(r.id);
        truth = there ? ActionStatus::kApplied : ActionStatus::kPending;
        break;
      case ActionStatus::kPending:
        truth = there ? ActionStatus::kApplied : ActionStatus::kPending;
        break;
      case ActionStatus::kRollingBack:
        truth = there ? ActionStatus::kApplied : ActionStatus::kRolledBack;
        break;
    }
    if (truth != r.status) {
      out_.event(
          {{"event", "reconcile"},
           {"step", step},
           {"id", r.id},
           {"journal", journal::toString(r.status)},
           {"database", there},
           {"status", journal::toString(truth)}},
          fmt::format("  reconciled {}: journal said {}, the database says {}", r.id,
                      journal::toString(r.status), there ? "it committed" : "it did not commit"));
      journal.setActionStatus(step, r.id, truth);
      r.status = truth;
    }
  }
  if (!drift.empty()) {
    throw Error::drift("state_drift",
                       fmt::format("step {}: the journal and the database disagree", step),
                       "someone changed these objects by hand; inspect them, then fix the "
                       "database or the journal")
        .withDetails(drift);
  }
  return records;
}

int Runner::revertApplied(journal::Journal& journal, Targets& targets, RunLock* lock,
                          const std::string& step,
                          const std::vector<journal::ActionRecord>& records) {
  for (const auto& r : records) {
    if (r.status == ActionStatus::kApplied && r.inverse.empty()) {
      throw Error::precondition(
          "irreversible",
          fmt::format("step {} cannot be rolled back: {} is irreversible", step, r.id));
    }
  }
  ApplyExecutor executor(execContext(journal, targets, lock, step));
  int count = 0;
  auto undo = [&](const journal::ActionRecord& r) {
    return r.status == ActionStatus::kApplied || interrupted_undos_.count(r.id) > 0;
  };
  auto todo = std::count_if(records.begin(), records.end(), undo);
  auto progress = out_.progress("rollback " + step, todo, "actions");
  for (auto it = records.rbegin(); it != records.rend(); ++it) {
    if (!undo(*it)) continue;
    Action a = fromRecord(*it);
    auto start = std::chrono::steady_clock::now();
    try {
      executor.revert(a);
    } catch (const Error& e) {
      out_.event({{"event", "action"},
                  {"step", step},
                  {"id", a.id},
                  {"status", "failed"},
                  {"direction", "inverse"},
                  {"error", e.what()},
                  {"sqlstate", e.sqlstate()}},
                 fmt::format("  FAILED   undo {}: {}", a.id, e.what()));
      throw Error(e.code(), e.kind(), fmt::format("undoing {} failed: {}", a.id, e.what()),
                  e.hint(), e.sqlstate());
    }
    std::int64_t ms = util::millisSince(start);
    out_.event(
        {{"event", "action"}, {"step", step}, {"id", a.id}, {"status", "rolled_back"}, {"ms", ms}},
        fmt::format("  undone   {}  ({} ms)", a.id, ms));
    progress->advance();
    ++count;
  }
  executor.finish();
  return count;
}

util::Outcome Runner::rollback(const std::string& name) {
  const Step& step = findStep(name);
  auto journal = journal::Journal::exists(plan_.migration.journal) ? openJournal(true) : nullptr;
  auto rec = journal ? journal->step(name) : std::nullopt;
  if (!rec || rec->status == StepStatus::kPending || rec->status == StepStatus::kRolledBack ||
      (rec->status == StepStatus::kFailed && rec->actions_applied == 0)) {
    out_.event({{"event", "step"},
                {"step", name},
                {"status", rec ? journal::toString(rec->status) : "pending"}},
               fmt::format("step {} is not applied; nothing to roll back", name));
    return {ExitCode::kOk, {"dbsplit status"}};
  }
  checkJournalOwner(*journal);
  // The run lock first: checked without it, the order below could change under
  // us (another run applying a later step between the check and the rollback).
  auto lock = acquireLock(name, journal.get());
  // Steps roll back in reverse order (DESIGN §5.5).
  std::vector<std::string> later;
  bool after = false;
  for (const Step* s : steps_) {
    if (s == &step) {
      after = true;
      continue;
    }
    if (!after || s->standalone() || step.standalone()) continue;
    auto r = journal->step(s->name());
    if (r && r->actions_applied > 0) later.push_back(s->name());
  }
  if (!later.empty()) {
    throw Error::precondition(
        "later_step_applied",
        fmt::format("cannot roll back {} while {} is applied", name, util::join(later, ", ")),
        "dbsplit rollback " + later.back());
  }
  std::vector<std::string> applied;
  for (const auto& a : journal->actions(name)) {
    if (a.status == ActionStatus::kApplied || a.status == ActionStatus::kStarted) {
      applied.push_back(a.id);
    }
  }
  if (std::string loss = step.rollbackDestroys(applied); !loss.empty()) {
    confirm(fmt::format("rolling back {} destroys {}. Go ahead?", name, loss),
            fmt::format("rolling back {} destroys {}; there is no terminal to ask on", name, loss),
            "re-run with --yes once you are sure");
  }
  Targets targets(plan_, connectOptions(name, false));
  requireWritable(targets.main());
  RunScope scope(*journal, out_, "rollback", name, "rollback", pg::redactDsn(config_.dsn));
  ScopeGuard active(&scope_, &scope);
  auto records = reconcile(*journal, targets, name);
  journal->setStepStatus(name, StepStatus::kRollingBack);
  out_.event({{"event", "plan"},
              {"step", name},
              {"mode", "rollback"},
              {"actions",
               std::count_if(records.begin(), records.end(),
                             [](const auto& r) { return r.status == ActionStatus::kApplied; })}},
             fmt::format("rollback {}: undoing applied actions in reverse order", name));
  auto start = std::chrono::steady_clock::now();
  int n = 0;
  try {
    n = revertApplied(*journal, targets, lock.get(), name, records);
  } catch (const Error& e) {
    scope.finish(ExitCode::kStepFailed);
    throw Error(e.code() == ExitCode::kPrecondition ? e.code() : ExitCode::kStepFailed, e.kind(),
                fmt::format("rollback of {} stopped: {}", name, e.what()),
                "fix the cause, then `dbsplit resume` finishes the rollback", e.sqlstate());
  }
  return finishRollback(*journal, targets, scope, name, n, start);
}

util::Outcome Runner::finishRollback(journal::Journal& journal, Targets& targets, RunScope& scope,
                                     const std::string& name, int undone,
                                     std::chrono::steady_clock::time_point start) {
  deleteRecords(journal, name);
  markers::deleteChain(targets.main(), plan_.migration.name, name);
  journal.setMeta(noAutoRollbackKey(name), "");
  journal.setStepStatus(name, StepStatus::kRolledBack);
  targets.dropEmptyMarkers(config_.lock_timeout_ms);
  out_.event({{"event", "step"},
              {"step", name},
              {"status", "rolled_back"},
              {"actions", undone},
              {"ms", util::millisSince(start)}},
             fmt::format("step {} rolled back: {} action(s) undone in {} ms", name, undone,
                         util::millisSince(start)));
  scope.finish(ExitCode::kOk);
  return {ExitCode::kOk, {"dbsplit status", "dbsplit run " + name + " --dry-run"}};
}

util::Outcome Runner::resume() {
  if (!journal::Journal::exists(plan_.migration.journal)) {
    out_.say("nothing to resume: no journal yet");
    return {ExitCode::kOk, {"dbsplit status"}};
  }
  auto journal = openJournal(true);
  checkJournalOwner(*journal);
  const Step* target = nullptr;
  journal::StepRecord rec;
  for (const Step* s : steps_) {
    auto r = journal->step(s->name());
    if (!r) continue;
    bool open = r->status == StepStatus::kApplying || r->status == StepStatus::kRollingBack ||
                (r->status == StepStatus::kFailed && r->actions_applied > 0);
    if (open) {
      target = s;
      rec = *r;
      break;
    }
  }
  if (!target) {
    out_.say("nothing to resume: no step was interrupted");
    return {ExitCode::kOk, {"dbsplit status"}};
  }
  const std::string name = target->name();
  bool backwards = rec.status == StepStatus::kRollingBack;
  auto lock = acquireLock(name, journal.get());
  Targets targets(plan_, connectOptions(name, false));
  requireWritable(targets.main());
  RunScope scope(*journal, out_, "resume", name, backwards ? "rollback" : "apply",
                 pg::redactDsn(config_.dsn));
  ScopeGuard active(&scope_, &scope);
  out_.event(
      {{"event", "resume"}, {"step", name}, {"direction", backwards ? "rollback" : "apply"}},
      fmt::format("resume {}: finishing the interrupted {}", name, backwards ? "rollback" : "run"));
  auto records = reconcile(*journal, targets, name);
  auto start = std::chrono::steady_clock::now();
  try {
    if (backwards) {
      int n = revertApplied(*journal, targets, lock.get(), name, records);
      return finishRollback(*journal, targets, scope, name, n, start);
    }
    journal->setStepStatus(name, StepStatus::kApplying);
    applyPending(*journal, targets, lock.get(), name, records);
  } catch (const Error& e) {
    journal->setStepStatus(name, backwards ? StepStatus::kRollingBack : StepStatus::kFailed,
                           e.what());
    scope.finish(ExitCode::kStepFailed);
    throw Error(
        e.code() == ExitCode::kDrift ? e.code() : ExitCode::kStepFailed, e.kind(),
        fmt::format("resume of {} stopped: {}", name, e.what()),
        fmt::format("fix the cause and `dbsplit resume` again, or `dbsplit rollback {}`", name),
        e.sqlstate());
  }
  journal->setStepStatus(name, StepStatus::kApplied);
  auto total = journal->step(name)->actions_total;
  out_.event({{"event", "step"},
              {"step", name},
              {"status", "applied"},
              {"actions", total},
              {"ms", util::millisSince(start)}},
             fmt::format("step {} applied ({} action(s))", name, total));
  scope.finish(ExitCode::kOk);
  return {ExitCode::kOk, nextStepsAfterApply(name, journal.get())};
}

}  // namespace dbsplit::engine
