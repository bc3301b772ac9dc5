// Runner: construction, shared helpers, and the forward direction (apply,
// dry-run, rehearse). Recovery (rollback, resume, reconcile) is in
// runner_recovery.cc; reports (status, plan, log) in runner_report.cc.
#include "engine/runner.h"

#include <signal.h>

#include <cerrno>
#include <thread>

#include <unistd.h>

#include <algorithm>
#include <chrono>

#include "engine/executor.h"
#include "engine/journal_access.h"
#include "engine/markers.h"
#include "engine/run_lock.h"
#include "engine/run_scope.h"
#include "fmt/format.h"
#include "pg/conninfo.h"
#include "plan/inputs_diff.h"
#include "util/hash.h"
#include "util/text.h"
#include "util/time.h"

namespace dbsplit::engine {

Runner::Runner(const plan::Plan& plan, EngineConfig config, util::Reporter& out, StepList steps)
    : plan_(plan), config_(std::move(config)), out_(out), steps_(std::move(steps)) {}

const Step& Runner::findStep(const std::string& name) const {
  std::vector<std::string> names;
  for (const Step* s : steps_) {
    if (s->name() == name) return *s;
    names.push_back(s->name());
  }
  std::string close = util::closestMatch(name, names);
  throw Error::usage(
      "unknown_step",
      fmt::format("unknown step \"{}\"{}", name,
                  close.empty() ? "" : fmt::format(" (did you mean \"{}\"?)", close)),
      names.empty() ? "no steps are available in this build yet"
                    : "steps available in this build: " + util::join(names, ", "));
}

pg::ConnectOptions Runner::connectOptions(const std::string& step, bool read_only) const {
  pg::ConnectOptions o;
  o.dsn = config_.dsn;
  o.application_name = fmt::format("dbsplit/{}/{}", plan_.migration.name, step);
  o.read_only = read_only;
  return o;
}

std::unique_ptr<journal::Journal> Runner::openJournal(bool write) const {
  if (write) return openJournalForWriting(plan_);
  if (!journal::Journal::exists(plan_.migration.journal)) return nullptr;
  return journal::Journal::open(plan_.migration.journal, journal::Journal::Mode::kReadOnly);
}

void Runner::checkJournalOwner(journal::Journal& journal) const {
  engine::checkJournalOwner(plan_, journal);
}

std::string Runner::inputsHash(const Step& step) const {
  return util::sha256Hex(step.inputs(plan_).dump());
}

std::vector<Runner::StepDrift> Runner::planDriftByStep(const journal::Journal& journal) const {
  std::vector<StepDrift> drift;
  for (const Step* s : steps_) {
    auto rec = journal.step(s->name());
    if (!rec || rec->status == journal::StepStatus::kPending ||
        rec->status == journal::StepStatus::kRolledBack || rec->actions_applied == 0) {
      continue;
    }
    nlohmann::json now = s->inputs(plan_);
    std::string now_hash = util::sha256Hex(now.dump());
    if (rec->plan_hash == now_hash) continue;
    StepDrift d;
    d.step = s->name();
    // Journals before schema version 2 hold only the hash; inputs that do not
    // hash to it (edited by hand) explain nothing either.
    if (!rec->inputs.empty() && util::sha256Hex(rec->inputs) == rec->plan_hash) {
      auto before = nlohmann::json::parse(rec->inputs, nullptr, false);
      if (!before.is_discarded()) d.changes = plan::diffInputs(before, now, plan_, s->name());
    }
    d.lines.push_back(fmt::format(
        "step {} was applied from a different plan (journal {}, plan now {}){}", s->name(),
        rec->plan_hash.substr(0, 12), now_hash.substr(0, 12),
        d.changes.empty() ? ""
                          : fmt::format(": {} plan entr{} changed since", d.changes.size(),
                                        d.changes.size() == 1 ? "y" : "ies")));
    for (const auto& c : d.changes)
      d.lines.push_back(fmt::format("step {}: {}", s->name(), c.str()));
    drift.push_back(std::move(d));
  }
  return drift;
}

std::vector<Runner::StepDrift> Runner::planDriftNow() const {
  auto journal = openJournal(false);
  if (!journal) return {};
  checkJournalOwner(*journal);
  return planDriftByStep(*journal);
}

std::vector<std::string> Runner::planDrift(const journal::Journal& journal) const {
  std::vector<std::string> lines;
  for (const auto& d : planDriftByStep(journal)) {
    lines.insert(lines.end(), d.lines.begin(), d.lines.end());
  }
  return lines;
}

std::vector<std::string> Runner::unmetPredecessors(const Step& step,
                                                   const journal::Journal* journal) const {
  std::vector<std::string> unmet;
  if (step.standalone()) return unmet;
  for (const Step* s : steps_) {
    if (s == &step) break;
    if (s->standalone()) continue;
    auto rec = journal ? journal->step(s->name()) : std::nullopt;
    if (!rec || rec->status != journal::StepStatus::kApplied) unmet.push_back(s->name());
  }
  return unmet;
}

std::string Runner::nextPendingStep(const journal::Journal* journal) const {
  for (const Step* s : steps_) {
    if (s->standalone()) continue;
    auto rec = journal ? journal->step(s->name()) : std::nullopt;
    if (!rec || rec->status != journal::StepStatus::kApplied) return s->name();
  }
  return {};
}

std::vector<std::string> Runner::nextStepsAfterApply(const std::string& step,
                                                     const journal::Journal* journal) const {
  std::string next = nextPendingStep(journal);
  std::vector<std::string> out;
  if (!next.empty()) out.push_back("dbsplit run " + next + " --dry-run");
  out.push_back("dbsplit status");
  out.push_back("dbsplit rollback " + step);
  return out;
}

bool Runner::lockHolderIsGone(const journal::Journal* journal) const {
  if (!journal) return false;
  try {
    bool any = false;
    for (const auto& run : journal->runs(5)) {
      if (run.exit_code >= 0 || !run.finished_at.empty() || run.pid <= 0) continue;
      any = true;
      // The journal is a local file: its runs ran on this host.
      if (::kill(run.pid, 0) == 0 || errno != ESRCH) return false;
    }
    return any;
  } catch (const Error&) {
    return false;
  }
}

std::unique_ptr<RunLock> Runner::acquireLock(const std::string& step,
                                             const journal::Journal* journal) const {
  // A run killed a moment ago still holds the lock until its backend notices
  // the closed connection; give PostgreSQL a few seconds when the journal says
  // the holder's dbsplit process is gone.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (;;) {
    try {
      return RunLock::acquire(connectOptions(step, false), plan_.migration.name);
    } catch (const Error& e) {
      if (e.code() != ExitCode::kLocked || std::chrono::steady_clock::now() > deadline ||
          !lockHolderIsGone(journal)) {
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  try {
    return RunLock::acquire(connectOptions(step, false), plan_.migration.name);
  } catch (Error& e) {
    if (e.code() != ExitCode::kLocked || !journal) throw;
    std::vector<std::string> details;
    try {
      for (const auto& run : journal->runs(5)) {
        if (run.exit_code >= 0 || !run.finished_at.empty()) continue;
        details.push_back(fmt::format("journal: run #{} `{} {}` by dbsplit pid {} since {}", run.id,
                                      run.command, run.step, run.pid, run.started_at));
      }
    } catch (const Error&) {
      // The journal is busy too; pg_locks already named the holder.
    }
    e.withDetails(details);
    throw;
  }
}

void Runner::requireWritable(pg::Session& session) const {
  pg::Result r =
      session.exec("SELECT pg_is_in_recovery(), current_setting('transaction_read_only')");
  if (r[0][0].as<bool>() || std::string(r[0][1].c_str()) == "on") {
    throw Error::precondition(
        "read_only_server",
        fmt::format(
            "{} is read-only ({}); nothing was changed", session.redactedDsn(),
            r[0][0].as<bool>() ? "a standby in recovery" : "default_transaction_read_only is on"),
        "connect to the primary, or ALTER DATABASE ... SET default_transaction_read_only = off");
  }
}

void Runner::confirmIfNeeded(const std::string& step, const std::vector<Action>& actions) const {
  std::vector<std::string> risky;
  for (const Action& a : actions) {
    if (a.destructive || a.irreversible()) risky.push_back(a.id);
  }
  if (risky.empty()) return;
  confirm(fmt::format("step {} has {} destructive or irreversible action(s): {}. Go ahead?", step,
                      risky.size(), util::join(risky, ", ")),
          fmt::format("step {} needs confirmation and there is no terminal to ask on", step),
          "re-run with --yes after reading `dbsplit run " + step + " --dry-run`");
}

void Runner::confirm(const std::string& question, const std::string& no_tty,
                     const std::string& hint) const {
  if (config_.yes) return;
  if (config_.ask) {
    if (config_.ask(question)) return;
    throw Error(ExitCode::kConfirm, "not_confirmed", "not confirmed; nothing changed");
  }
  throw Error(ExitCode::kConfirm, "confirmation_needed", no_tty, hint);
}

void Runner::checkGates(const Step& step, const PlanContext& ctx) const {
  std::vector<std::string> failed;
  for (const Gate& g : step.gates(ctx)) {
    out_.event({{"event", "gate"},
                {"step", step.name()},
                {"gate", g.name},
                {"passed", g.passed},
                {"evidence", g.evidence}},
               fmt::format("  gate {:<24} {}  {}", g.name, g.passed ? "pass" : "FAIL", g.evidence));
    if (!g.passed) failed.push_back(g.name + ": " + g.evidence);
  }
  if (!failed.empty()) {
    throw Error::precondition(
        "gate_failed",
        fmt::format("step {}: {} gate(s) not met; nothing changed", step.name(), failed.size()))
        .withDetails(failed);
  }
}

util::Outcome Runner::run(const std::string& name, Mode mode) {
  const Step& step = findStep(name);
  switch (mode) {
    case Mode::kDryRun:
      return dryRun(step);
    case Mode::kRehearse:
      return rehearse(step);
    case Mode::kApply:
      break;
  }
  return apply(step);
}

util::Outcome Runner::runNext(Mode mode) {
  auto journal = openJournal(false);
  std::string next = nextPendingStep(journal.get());
  journal.reset();
  if (next.empty()) {
    out_.say("every step is applied; nothing to run");
    return {ExitCode::kOk, {"dbsplit status"}};
  }
  return run(next, mode);
}

util::Outcome Runner::runAll(Mode mode) {
  util::Outcome last{ExitCode::kOk, {"dbsplit status"}};
  for (const Step* s : steps_) {
    if (s->standalone()) continue;
    auto journal = openJournal(false);
    auto rec = journal ? journal->step(s->name()) : std::nullopt;
    journal.reset();
    if (rec && rec->status == journal::StepStatus::kApplied) continue;
    last = run(s->name(), mode);
    if (last.code != ExitCode::kOk) return last;
  }
  return last;
}

util::Outcome Runner::dryRun(const Step& step) {
  auto journal = openJournal(false);  // read-only: a dry-run writes nothing
  if (journal) checkJournalOwner(*journal);
  auto rec = journal ? journal->step(step.name()) : std::nullopt;
  if (rec && rec->status == journal::StepStatus::kApplied) {
    out_.event({{"event", "step"}, {"step", step.name()}, {"status", "applied"}},
               fmt::format("step {} is already applied; a run would change nothing", step.name()));
    return {ExitCode::kOk, {"dbsplit status"}};
  }
  auto catalog = pg::Session::connect(connectOptions(step.name(), true));
  ExitCode code = ExitCode::kOk;
  for (const auto& missing : unmetPredecessors(step, journal.get())) {
    out_.warn(
        fmt::format("step {} is not applied yet; `run {}` would refuse", missing, step.name()));
    code = ExitCode::kPrecondition;
  }
  PlanContext pctx{plan_, *catalog, journal.get()};
  try {
    checkGates(step, pctx);
  } catch (const Error& e) {
    out_.warn(e.what());
    code = ExitCode::kPrecondition;
  }
  std::vector<Action> actions = step.plan(pctx);
  chainHashes(actions);
  out_.event(
      {{"event", "plan"}, {"step", step.name()}, {"mode", "dry_run"}, {"actions", actions.size()}},
      fmt::format("-- dry-run of step {}: {} action(s); nothing is changed, not even the "
                  "journal\n",
                  step.name(), actions.size()));
  ExecContext ctx;
  ctx.out = &out_;
  ctx.step = step.name();
  DryRunExecutor executor(ctx);
  for (const Action& a : actions) executor.apply(a);
  return {code, {"dbsplit run " + step.name() + " --rehearse", "dbsplit run " + step.name()}};
}

util::Outcome Runner::rehearse(const Step& step) {
  auto journal = openJournal(false);
  if (journal) checkJournalOwner(*journal);
  auto unmet = unmetPredecessors(step, journal.get());
  if (!unmet.empty()) {
    throw Error::precondition(
        "step_order",
        fmt::format("step {} needs {} applied first", step.name(), util::join(unmet, ", ")),
        "dbsplit run " + unmet.front());
  }
  auto lock = acquireLock(step.name(), journal.get());
  auto catalog = pg::Session::connect(connectOptions(step.name(), true));
  auto session = pg::Session::connect(connectOptions(step.name(), false));
  requireWritable(*session);
  PlanContext pctx{plan_, *catalog, journal.get()};
  checkGates(step, pctx);
  std::vector<Action> actions = step.plan(pctx);
  chainHashes(actions);
  out_.event(
      {{"event", "plan"}, {"step", step.name()}, {"mode", "rehearse"}, {"actions", actions.size()}},
      fmt::format("rehearsal of step {}: {} action(s) inside BEGIN ... ROLLBACK", step.name(),
                  actions.size()));
  ExecContext ctx;
  ctx.session = session.get();
  ctx.out = &out_;
  ctx.lock = lock.get();
  ctx.migration = plan_.migration.name;
  ctx.step = step.name();
  ctx.lock_timeout_ms = config_.lock_timeout_ms;
  ctx.backoff.max_tries = config_.lock_retries;
  RehearseExecutor executor(ctx);
  auto start = std::chrono::steady_clock::now();
  executor.begin();
  try {
    for (const Action& a : actions) executor.apply(a);
  } catch (const Error& e) {
    try {
      executor.finish();
    } catch (const Error&) {
    }
    throw Error(e.code(), e.kind(),
                fmt::format("rehearsal of step {} failed: {}", step.name(), e.what()),
                "everything was rolled back; fix the cause and rehearse again", e.sqlstate());
  }
  executor.finish();
  out_.event({{"event", "step"},
              {"step", step.name()},
              {"status", "rehearsed"},
              {"ms", util::millisSince(start)}},
             fmt::format("rehearsal of step {} done in {} ms; everything rolled back", step.name(),
                         util::millisSince(start)));
  return {ExitCode::kOk, {"dbsplit run " + step.name()}};
}

util::Outcome Runner::apply(const Step& step) {
  const std::string& name = step.name();
  auto journal = openJournal(true);
  checkJournalOwner(*journal);
  auto lock = acquireLock(name, journal.get());
  auto catalog = pg::Session::connect(connectOptions(name, true));
  Targets targets(plan_, connectOptions(name, false));
  pg::Session* session = &targets.main();
  requireWritable(*session);

  auto drift = planDrift(*journal);
  if (!drift.empty()) {
    throw Error::drift("plan_drift", "the plan changed under applied steps; nothing changed",
                       "restore the plan those steps ran with, or roll them back first")
        .withDetails(drift);
  }
  if (auto rec = journal->step(name)) {
    if (rec->status == journal::StepStatus::kApplied) {
      out_.event({{"event", "step"}, {"step", name}, {"status", "applied"}},
                 fmt::format("step {} is already applied; nothing to do", name));
      return {ExitCode::kOk, nextStepsAfterApply(name, journal.get())};
    }
    bool interrupted = rec->status == journal::StepStatus::kApplying ||
                       rec->status == journal::StepStatus::kRollingBack ||
                       (rec->status == journal::StepStatus::kFailed && rec->actions_applied > 0);
    if (interrupted) {
      throw Error::precondition(
          "step_interrupted",
          fmt::format("step {} was interrupted ({} of {} actions applied)", name,
                      rec->actions_applied, rec->actions_total),
          fmt::format("`dbsplit resume` finishes it; `dbsplit rollback {}` undoes it", name));
    }
  }
  auto unmet = unmetPredecessors(step, journal.get());
  if (!unmet.empty()) {
    throw Error::precondition(
        "step_order", fmt::format("step {} needs {} applied first", name, util::join(unmet, ", ")),
        "dbsplit run " + unmet.front());
  }
  PlanContext pctx{plan_, *catalog, journal.get()};
  checkGates(step, pctx);
  std::vector<Action> actions = step.plan(pctx);
  chainHashes(actions);
  confirmIfNeeded(name, actions);

  // The marker table is created in each database on its first action there
  // (ApplyExecutor::sessionFor): a step with nothing to run leaves no trace.
  RunScope scope(*journal, out_, "run", name, "apply", pg::redactDsn(config_.dsn));
  ScopeGuard active(&scope_, &scope);
  std::vector<journal::ActionRecord> records;
  for (size_t i = 0; i < actions.size(); ++i) {
    records.push_back(toRecord(actions[i], name, static_cast<int>(i)));
  }
  journal->recordStep(name, inputsHash(step), records, journal::StepStatus::kApplying,
                      step.inputs(plan_).dump());
  journal->setMeta(noAutoRollbackKey(name), "");
  if (!actions.empty()) {
    // What the journal now holds, witnessed by the database before anything
    // runs: rollback and resume check the journal against it (integrity.h).
    targets.ensureMarkers("", config_.lock_timeout_ms);
    markers::recordChain(*session, plan_.migration.name, name, chainDigest(actions));
  }
  out_.event(
      {{"event", "plan"},
       {"step", name},
       {"mode", "apply"},
       {"actions", actions.size()},
       {"chain_sha256", actions.empty() ? "" : actions.back().sha256}},
      fmt::format("run {}: {} action(s) on {}", name, actions.size(), session->redactedDsn()));
  auto start = std::chrono::steady_clock::now();
  try {
    applyPending(*journal, targets, lock.get(), name, journal->actions(name));
  } catch (const Error& failure) {
    // Past a point of no return (the on_cutover hook repointed the service),
    // rolling back by ourselves would take away what now takes traffic.
    auto no_return = journal->meta(noAutoRollbackKey(name));
    if (no_return && !no_return->empty()) {
      journal->setStepStatus(name, journal::StepStatus::kFailed, failure.what());
      scope.finish(ExitCode::kStepFailed);
      throw Error(ExitCode::kStepFailed, failure.kind(),
                  fmt::format("step {} failed after {} took effect outside the database: {}", name,
                              *no_return, failure.what()),
                  fmt::format("nothing was rolled back (the on_cutover hook ran); fix the cause, "
                              "then `dbsplit resume` finishes the step, or `dbsplit rollback {}` "
                              "undoes it once the service is pointed back",
                              name),
                  failure.sqlstate());
    }
    // Leave the database as we found it (STYLE "Errors", like pgroll's start):
    // undo what this run applied, and report both errors if that fails too.
    std::string undo;
    try {
      targets.reconnectLost();
      journal->setStepStatus(name, journal::StepStatus::kRollingBack, failure.what());
      auto reconciled = reconcile(*journal, targets, name);
      int n = revertApplied(*journal, targets, lock.get(), name, reconciled);
      markers::deleteChain(targets.main(), plan_.migration.name, name);
      journal->setStepStatus(name, journal::StepStatus::kFailed, failure.what());
      targets.dropEmptyMarkers(config_.lock_timeout_ms);
      undo = fmt::format(
          "the {} action(s) applied before it were rolled back; nothing is "
          "changed. Fix the cause and run it again",
          n);
    } catch (const std::exception& again) {
      undo = fmt::format(
          "rolling back failed too ({}); `dbsplit resume` finishes the "
          "rollback once the cause is fixed",
          again.what());
    }
    scope.finish(ExitCode::kStepFailed);
    throw Error(ExitCode::kStepFailed, failure.kind(),
                fmt::format("step {} failed: {}", name, failure.what()), undo, failure.sqlstate());
  }
  storeRecords(*journal, step, pctx);
  journal->setStepStatus(name, journal::StepStatus::kApplied);
  out_.event({{"event", "step"},
              {"step", name},
              {"status", "applied"},
              {"actions", actions.size()},
              {"ms", util::millisSince(start)}},
             fmt::format("step {} applied: {} action(s) in {} ms", name, actions.size(),
                         util::millisSince(start)));
  scope.finish(ExitCode::kOk);
  return {ExitCode::kOk, nextStepsAfterApply(name, journal.get())};
}

void Runner::storeRecords(journal::Journal& journal, const Step& step,
                          const PlanContext& ctx) const {
  std::vector<std::string> ids;
  journal.transaction([&] {
    for (const auto& r : step.records(ctx)) {
      ids.push_back(std::to_string(journal.addSnapshot(r.kind, r.body)));
    }
    journal.setMeta("records:" + step.name(), util::join(ids, ","));
  });
}

void Runner::deleteRecords(journal::Journal& journal, const std::string& step) const {
  auto ids = journal.meta("records:" + step);
  if (!ids || ids->empty()) return;
  journal.transaction([&] {
    size_t pos = 0;
    while (pos <= ids->size()) {
      size_t comma = ids->find(',', pos);
      if (comma == std::string::npos) comma = ids->size();
      std::string id = ids->substr(pos, comma - pos);
      if (!id.empty()) journal.deleteSnapshot(std::stoll(id));
      pos = comma + 1;
    }
    journal.setMeta("records:" + step, "");
  });
}

void Runner::applyPending(journal::Journal& journal, Targets& targets, RunLock* lock,
                          const std::string& step,
                          const std::vector<journal::ActionRecord>& records) {
  ApplyExecutor executor(execContext(journal, targets, lock, step));
  auto progress =
      out_.progress("run " + step, static_cast<std::int64_t>(records.size()), "actions");
  for (const auto& r : records) {
    if (r.status == journal::ActionStatus::kApplied) {
      progress->advance();
      continue;
    }
    Action a = fromRecord(r);
    auto start = std::chrono::steady_clock::now();
    try {
      executor.apply(a);
    } catch (const Error& e) {
      out_.event({{"event", "action"},
                  {"step", step},
                  {"id", a.id},
                  {"status", "failed"},
                  {"error", e.what()},
                  {"sqlstate", e.sqlstate()}},
                 fmt::format("  FAILED   {}: {}", a.id, e.what()));
      throw Error(e.code(), e.kind(), fmt::format("action {} failed: {}", a.id, e.what()), e.hint(),
                  e.sqlstate());
    }
    std::int64_t ms = util::millisSince(start);
    out_.event(
        {{"event", "action"}, {"step", step}, {"id", a.id}, {"status", "applied"}, {"ms", ms}},
        fmt::format("  applied  {}  ({} ms)", a.id, ms));
    progress->advance();
  }
  executor.finish();
}

ExecContext Runner::execContext(journal::Journal& journal, Targets& targets, RunLock* lock,
                                const std::string& step) const {
  ExecContext ctx;
  ctx.session = &targets.main();
  ctx.targets = &targets;
  ctx.plan = &plan_;
  ctx.journal = &journal;
  ctx.out = &out_;
  ctx.lock = lock;
  ctx.migration = plan_.migration.name;
  ctx.step = step;
  ctx.lock_timeout_ms = config_.lock_timeout_ms;
  ctx.backoff.max_tries = config_.lock_retries;
  RunScope* scope = scope_;
  ctx.in_journal_transaction = [scope] {
    if (scope) scope->flushEvents();
  };
  return ctx;
}

}  // namespace dbsplit::engine
