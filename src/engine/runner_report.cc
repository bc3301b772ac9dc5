// Runner: read-only reports. status reconciles the journal with the database
// without writing either; plan shows what would run; log shows the history.
#include <algorithm>
#include <map>

#include "engine/executor.h"
#include "engine/integrity.h"
#include "engine/markers.h"
#include "engine/run_lock.h"
#include "engine/runner.h"
#include "fmt/format.h"
#include "pg/conninfo.h"
#include "util/text.h"

namespace dbsplit::engine {

using journal::ActionStatus;
using journal::StepStatus;

namespace {

// The contract's five statuses (DESIGN §4). An interrupted rollback has no
// status of its own there: it is "failed" with operation "rollback".
const char* contractStatus(StepStatus s) {
  switch (s) {
    case StepStatus::kRollingBack:
      return "failed";
    default:
      return journal::toString(s);
  }
}

}  // namespace

util::Outcome Runner::status() {
  auto journal = openJournal(false);
  if (journal) checkJournalOwner(*journal);
  std::unique_ptr<Targets> targets;
  pg::Session* session = nullptr;
  ExitCode code = ExitCode::kOk;
  try {
    targets = std::make_unique<Targets>(plan_, connectOptions("status", true));
    session = &targets->main();
  } catch (const Error& e) {
    out_.warn(fmt::format("{}; showing the journal only", e.what()));
    code = ExitCode::kPrecondition;
  }
  std::optional<LockHolder> holder;
  std::map<std::string, std::set<std::string>> present;  // per database
  if (session) holder = RunLock::holder(*session, plan_.migration.name);
  if (holder && lockHolderIsGone(journal.get())) {
    // A killed run whose backend has not noticed yet: the step is interrupted.
    out_.warn(
        fmt::format("the run lock is still held by backend pid {}, but the dbsplit "
                    "process of the journal's last run is gone; PostgreSQL releases the "
                    "lock as soon as it notices",
                    holder->pid));
    holder.reset();
  }
  // Whether an action's effect is in its database; a database that does not
  // exist (yet) holds nothing.
  auto effectPresent = [&](const journal::ActionRecord& a) {
    pg::Session* where = targets->existing(a.database);
    if (!where) return false;
    if (!present.count(a.database)) {
      present[a.database] = markers::present(*where, plan_.migration.name);
    }
    return markers::effectPresent(*where, present[a.database], a);
  };
  out_.say(fmt::format("migration {}  journal {}{}", plan_.migration.name, plan_.migration.journal,
                       journal ? "" : " (not created yet)"));
  if (holder) {
    out_.event({{"event", "run_lock"},
                {"pid", holder->pid},
                {"application_name", holder->application_name},
                {"since", holder->since}},
               fmt::format("a run is in progress: pid {} ({}) since {}", holder->pid,
                           holder->application_name, holder->since));
  }
  std::vector<StepDrift> plan_drift =
      journal ? planDriftByStep(*journal) : std::vector<StepDrift>{};
  std::vector<std::string> next;
  for (const Step* s : steps_) {
    auto rec = journal ? journal->step(s->name()) : std::nullopt;
    StepStatus st = rec ? rec->status : StepStatus::kPending;
    nlohmann::json ev = {{"event", "step"},
                         {"step", s->name()},
                         {"status", contractStatus(st)},
                         {"actions_applied", rec ? rec->actions_applied : 0},
                         {"actions_total", rec ? rec->actions_total : 0}};
    std::string extra;
    std::vector<std::string> drift;
    if (rec && session) {
      bool in_progress = st == StepStatus::kApplying || st == StepStatus::kRollingBack ||
                         st == StepStatus::kFailed;
      auto records = journal->actions(s->name());
      try {
        checkIntegrity(records, *targets, plan_.migration.name, s->name());
      } catch (const Error& e) {
        // Its verify queries are the journal's SQL too: none of them runs.
        if (e.kind() != "journal_tampered") throw;
        for (const auto& d : e.details()) drift.push_back(d);
        records.clear();
      }
      for (const auto& a : records) {
        bool there = effectPresent(a);
        if (a.status == ActionStatus::kApplied && !there) {
          drift.push_back(a.id + ": journal says applied, the database lacks it");
        } else if ((a.status == ActionStatus::kPending || a.status == ActionStatus::kRolledBack) &&
                   there && !in_progress) {
          drift.push_back(a.id + ": journal says not applied, the database has it");
        } else if (a.status == ActionStatus::kStarted || a.status == ActionStatus::kRollingBack) {
          ev["interrupted_action"] = a.id;
          ev["committed"] = there;
          ev["operation"] = a.status == ActionStatus::kRollingBack ? "rollback" : "apply";
          extra = fmt::format(
              "  interrupted at {} ({}; its {} {})", a.id,
              a.status == ActionStatus::kRollingBack ? "undo" : "apply",
              a.transactional ? "transaction" : "effect",
              there == (a.status == ActionStatus::kStarted) ? "committed" : "did not commit");
        }
      }
    }
    if (st == StepStatus::kRollingBack) ev["operation"] = "rollback";
    if (rec && !rec->error.empty()) ev["error"] = rec->error;
    for (const auto& d : plan_drift) {
      if (d.step != s->name()) continue;
      drift.insert(drift.end(), d.lines.begin(), d.lines.end());
      if (!d.changes.empty()) {
        nlohmann::json changes = nlohmann::json::array();
        for (const auto& c : d.changes) changes.push_back(c.toJson());
        ev["plan_changes"] = changes;
      }
    }
    if (!drift.empty()) {
      ev["drift"] = drift;
      code = ExitCode::kDrift;
    }
    bool interrupted = (st == StepStatus::kApplying || st == StepStatus::kRollingBack ||
                        (st == StepStatus::kFailed && rec && rec->actions_applied > 0)) &&
                       !holder;
    if (interrupted) ev["interrupted"] = true;
    // A standalone step never comes up in run --next: "pending" would read as
    // work left undone.
    const bool optional = s->standalone() && st == StepStatus::kPending;
    if (s->standalone()) ev["standalone"] = true;
    if (optional) extra += "  (standalone, only when you choose: " + s->summary() + ")";
    std::string human = fmt::format("  {:<12} {:<12} {}/{} actions{}{}", s->name(),
                                    st == StepStatus::kRollingBack ? "failed (rollback)"
                                    : optional                     ? "optional"
                                                                   : contractStatus(st),
                                    rec ? rec->actions_applied : 0, rec ? rec->actions_total : 0,
                                    interrupted ? "  INTERRUPTED" : "", extra);
    for (const auto& d : drift) human += "\n      drift: " + d;
    out_.event(ev, human);
    if (interrupted && next.empty()) {
      next = {"dbsplit resume", "dbsplit rollback " + s->name()};
    }
  }
  if (next.empty()) {
    std::string n = nextPendingStep(journal.get());
    if (!n.empty()) next.push_back("dbsplit run " + n + " --dry-run");
  }
  return {code, next};
}

util::Outcome Runner::showPlan(const std::string& only) {
  std::vector<const Step*> chosen;
  if (only.empty()) {
    chosen = steps_;
  } else {
    chosen.push_back(&findStep(only));
  }
  auto journal = openJournal(false);
  if (journal) checkJournalOwner(*journal);
  std::unique_ptr<pg::Session> catalog;
  ExecContext ctx;
  ctx.out = &out_;
  for (const Step* s : chosen) {
    auto rec = journal ? journal->step(s->name()) : std::nullopt;
    bool journaled = rec && rec->status != StepStatus::kPending &&
                     rec->status != StepStatus::kRolledBack && rec->actions_applied > 0;
    std::vector<std::pair<Action, std::string>> rows;
    if (journaled) {
      for (const auto& r : journal->actions(s->name())) {
        rows.emplace_back(fromRecord(r), journal::toString(r.status));
      }
    } else {
      if (!catalog) catalog = pg::Session::connect(connectOptions("plan", true));
      std::vector<Action> actions = s->plan(PlanContext{plan_, *catalog, journal.get()});
      chainHashes(actions);
      for (auto& a : actions) rows.emplace_back(std::move(a), "pending");
    }
    out_.event({{"event", "plan"},
                {"step", s->name()},
                {"status", rec ? contractStatus(rec->status) : "pending"},
                {"actions", rows.size()}},
               fmt::format("-- step {} ({}): {} action(s)\n", s->name(),
                           rec ? contractStatus(rec->status) : "pending", rows.size()));
    for (const auto& [a, st] : rows) {
      std::string human =
          fmt::format("-- [{}] {}{}\n--   lock: {}{}\n{}\n", st, a.id,
                      a.description.empty() ? "" : ": " + a.description, a.lock.str(),
                      a.transactional ? "" : " (not transactional)", a.forward);
      human += a.irreversible() ? "--   inverse: none (irreversible)\n"
                                : "--   inverse:\n" + a.inverse + "\n";
      out_.event({{"event", "action"},
                  {"step", s->name()},
                  {"id", a.id},
                  {"status", st},
                  {"description", a.description},
                  {"forward", a.forward},
                  {"inverse", a.inverse},
                  {"lock", a.lock.str()},
                  {"transactional", a.transactional},
                  {"verify", a.verify},
                  {"sha256", a.sha256}},
                 human);
    }
  }
  return {ExitCode::kOk, {}};
}

namespace {

// At most `width` characters, on one line: a gate's evidence can list
// hundreds of statements; the dry-run shows them all.
std::string shortened(const std::string& text, size_t width) {
  std::string flat;
  for (char c : text) flat += (c == '\n' || c == '\t') ? ' ' : c;
  if (flat.size() <= width) return flat;
  size_t cut = width - 3;
  while (cut > 0 && (static_cast<unsigned char>(flat[cut]) & 0xC0) == 0x80) --cut;  // UTF-8
  return flat.substr(0, cut) + "...";
}

std::string kindOf(const std::string& id) {
  size_t first = id.find('/');
  if (first == std::string::npos) return id;
  size_t second = id.find('/', first + 1);
  return id.substr(first + 1, second == std::string::npos ? std::string::npos : second - first - 1);
}

}  // namespace

util::Outcome Runner::preview(const std::string& name) {
  const Step& step = findStep(name);
  auto journal = openJournal(false);
  if (journal) checkJournalOwner(*journal);
  auto catalog = pg::Session::connect(connectOptions("plan", true));
  PlanContext ctx{plan_, *catalog, journal.get()};
  std::vector<Action> actions = step.plan(ctx);
  std::map<std::string, int> kinds, locks;
  int movers = 0, irreversible = 0;
  bool destructive = false;
  for (const Action& a : actions) {
    ++kinds[kindOf(a.id)];
    ++locks[a.lock.mode.empty() ? "none" : a.lock.mode];
    movers += a.transactional ? 0 : 1;
    irreversible += a.irreversible() ? 1 : 0;
    destructive = destructive || a.destructive;
  }
  std::vector<std::string> kind_parts, lock_parts;
  for (const auto& [kind, n] : kinds) kind_parts.push_back(fmt::format("{} {}", n, kind));
  for (const auto& [mode, n] : locks) lock_parts.push_back(fmt::format("{} x {}", mode, n));
  out_.say(fmt::format("   {}: {}", step.name(), step.summary()));
  out_.say(fmt::format("   {} action(s){}{}", actions.size(),
                       kind_parts.empty() ? "" : ": " + util::join(kind_parts, ", "),
                       actions.empty() ? " (nothing to change)" : ""));
  if (!actions.empty()) {
    out_.say("   locks: " + util::join(lock_parts, ", ") +
             (movers ? fmt::format("; {} not transactional (data movers)", movers) : "") +
             (irreversible ? fmt::format("; {} irreversible", irreversible) : "") +
             (destructive ? "; asks before it runs" : ""));
  }
  std::vector<Gate> gates = step.gates(ctx);
  int failed = 0;
  out_.say(gates.empty() ? "   gates: none" : "   gates, evaluated now:");
  for (const Gate& g : gates) {
    failed += g.passed ? 0 : 1;
    out_.event({{"event", "gate"},
                {"step", step.name()},
                {"gate", g.name},
                {"passed", g.passed},
                {"evidence", g.evidence}},
               fmt::format("     {} {:<20} {}", g.passed ? "pass" : "FAIL", g.name,
                           shortened(g.evidence, 160)));
  }
  if (failed > 0) {
    out_.say(
        fmt::format("   {} gate(s) fail: applying it now changes nothing and exits 3; the "
                    "dry-run shows each gate's whole evidence",
                    failed));
  }
  return {ExitCode::kOk, {}};
}

util::Outcome Runner::showLog(int limit) {
  auto journal = openJournal(false);
  if (!journal) {
    out_.say("no journal yet: nothing has run");
    return {ExitCode::kOk, {"dbsplit run --next --dry-run"}};
  }
  checkJournalOwner(*journal);
  for (const auto& run : journal->runs(limit)) {
    std::string outcome = run.exit_code < 0 ? (run.finished_at.empty() ? "did not finish" : "?")
                                            : fmt::format("exit {}", run.exit_code);
    out_.event({{"event", "run"},
                {"run_id", run.id},
                {"command", run.command},
                {"step", run.step},
                {"mode", run.mode},
                {"started_at", run.started_at},
                {"finished_at", run.finished_at},
                {"exit_code", run.exit_code},
                {"pid", run.pid},
                {"dsn", run.dsn}},
               fmt::format("#{} {}  {} {} ({})  {}  pid {}  {}", run.id, run.started_at,
                           run.command, run.step, run.mode, outcome, run.pid, run.dsn));
    for (const auto& ev : journal->events(run.id, 10000)) {
      nlohmann::json j = nlohmann::json::parse(ev.json, nullptr, false);
      if (j.is_discarded()) continue;
      std::string kind = j.value("event", "");
      if (kind != "action" && kind != "retry" && kind != "step" && kind != "reconcile" &&
          kind != "error") {
        continue;
      }
      std::string line = fmt::format("    {} {:<9} {}", ev.at.substr(11, 12), kind,
                                     j.value("id", j.value("action", j.value("step", ""))));
      if (j.contains("status")) line += " " + j["status"].get<std::string>();
      if (j.contains("error")) line += ": " + j["error"].get<std::string>();
      if (kind == "retry") line += fmt::format(" attempt {}", j.value("attempt", 0));
      out_.say(line);
    }
  }
  return {ExitCode::kOk, {}};
}

}  // namespace dbsplit::engine
