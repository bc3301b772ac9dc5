// One lifecycle harness for every step (modelled on pgroll's ExecuteTests): a
// step's e2e suite says how to build its scenario, names the step and gives its
// checks; runLifecycle takes it through
//   dry-run    the schema dump and the journal stay byte-identical;
//   rehearse   nothing changes;
//   apply      then the step's checks; a dry-run of the applied step changes nothing;
//   rollback   the schema dump (and the step's extra state) as before; once more
//              apply and rollback, the second apply ending where the first did;
//   faults     DBSPLIT_FAULT=<action>:before and :after at every action boundary
//              (and the step's points inside its movers): the process dies, status
//              names the interrupted action, run refuses, resume ends equal to an
//              uninterrupted run (dump equal, the step's checks pass), rollback
//              (itself faulted where the step asks) restores the original.
// A step's hostile-identifier variant is one more Lifecycle whose scenario uses
// the names of support/hostile.h (or a fixture whose names are hostile already).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "support/pg_test.h"
#include "support/scenario.h"

namespace dbsplit::test {

using Env = std::map<std::string, std::string>;

// The ids of `step`'s actions, in order, from `dbsplit plan <step> --json`: the
// one place tests take action ids from.
std::vector<std::string> actionIds(const CliFn& cli, const std::string& step);

// How a fault's victim is brought back before it is rolled back.
enum class Recovery {
  kResume,     // every fault: resume, compare with the uninterrupted run, then rollback
  kAlternate,  // every other fault is rolled back instead of resumed (slow steps: one
               // run per boundary, both ways out of a crash covered)
};

template <class S>
struct Lifecycle {
  std::string step;
  // A fresh database and plan, advanced to just before `step`.
  std::function<std::unique_ptr<S>()> build;

  // Everything below is optional.
  bool apply_asks = false;     // `run` needs --yes without a terminal (destructive step)
  bool rollback_asks = false;  // `rollback` needs --yes (it drops data written since)
  Env env;                     // for every run of the step (and resume), e.g. small backfill ranges
  // State besides the schema dump that must be back after a rollback and equal
  // after a resume (ACLs, role settings).
  std::function<std::string(S&)> state;
  // Checks on the action ids (how many, which).
  std::function<void(S&, const std::vector<std::string>&)> actions;
  std::function<void(S&, const CliResult&)> dry_run;   // output of `run --dry-run`
  std::function<void(S&, const CliResult&)> rehearse;  // output of `run --rehearse --json`
  std::function<void(S&)> before_apply;                // e.g. confirmation refused
  std::function<void(S&, const CliResult&)> apply;     // output of `run --json`; once
  // The step's checks of its applied state: after the apply and after every resume.
  std::function<void(S&)> applied;
  std::function<void(S&)> before_rollback;  // once, on the applied step
  std::function<void(S&, const CliResult&)> rolled_back;

  bool faults = true;  // false: the fault loop is run by another Lifecycle of the step
  Recovery recovery = Recovery::kResume;
  // Status after a boundary fault says whether the action's effect committed
  // (true where every action's effect can be probed in the database status
  // connects to; database-mode targets may not be).
  bool status_tells_committed = false;
  // Points inside the movers, besides the boundaries: "<id>#<n>:after".
  std::function<std::vector<std::string>(const std::vector<std::string>& ids)> mover_faults;
  // Before every faulted run (e.g. writes the relay must carry).
  std::function<void(S&)> before_fault;
  // Boundary faults ("<id>:before") that are also injected into the rollback
  // after the resume, followed by a resume that must finish the rollback.
  std::function<bool(S&, const std::string& fault)> rollback_fault;
};

// What the harness needs of any scenario, whatever its fixture class.
struct LifecycleRig {
  std::string step;
  bool apply_asks = false;
  bool rollback_asks = false;
  std::function<CliResult(const std::vector<std::string>&, const Env&)> cli;
  std::function<std::string()> dump;   // pg_dump --schema-only of the scenario's database
  std::function<std::string()> state;  // "" when the step has none
  std::string journal;                 // the journal file
};

struct LifecycleHooks {
  Env env;
  std::function<void(const std::vector<std::string>&)> actions;
  std::function<void(const CliResult&)> dry_run, rehearse, apply, rolled_back;
  std::function<void()> before_apply, applied, before_rollback, before_fault;
  bool faults = true;
  Recovery recovery = Recovery::kResume;
  bool status_tells_committed = false;
  std::function<std::vector<std::string>(const std::vector<std::string>&)> mover_faults;
  std::function<bool(const std::string&)> rollback_fault;
};

void runLifecycle(const LifecycleRig& rig, const LifecycleHooks& hooks);

// S needs cli(args, env), db() (a TestDb) and journalPath().
template <class S>
void runLifecycle(const Lifecycle<S>& c) {
  std::unique_ptr<S> owned = c.build();
  S& s = *owned;
  LifecycleRig rig;
  rig.step = c.step;
  rig.apply_asks = c.apply_asks;
  rig.rollback_asks = c.rollback_asks;
  rig.cli = [&s](const std::vector<std::string>& args, const Env& env) { return s.cli(args, env); };
  rig.dump = [&s] { return s.db().schemaDump(); };
  rig.state = [&s, &c] { return c.state ? c.state(s) : std::string(); };
  rig.journal = s.journalPath();

  auto bind = [&s](const std::function<void(S&)>& f) -> std::function<void()> {
    if (!f) return {};
    return [&s, f] { f(s); };
  };
  auto bindResult = [&s](const std::function<void(S&, const CliResult&)>& f)
      -> std::function<void(const CliResult&)> {
    if (!f) return {};
    return [&s, f](const CliResult& r) { f(s, r); };
  };
  LifecycleHooks h;
  h.env = c.env;
  if (c.actions) h.actions = [&s, &c](const std::vector<std::string>& ids) { c.actions(s, ids); };
  h.dry_run = bindResult(c.dry_run);
  h.rehearse = bindResult(c.rehearse);
  h.apply = bindResult(c.apply);
  h.rolled_back = bindResult(c.rolled_back);
  h.before_apply = bind(c.before_apply);
  h.applied = bind(c.applied);
  h.before_rollback = bind(c.before_rollback);
  h.before_fault = bind(c.before_fault);
  h.faults = c.faults;
  h.recovery = c.recovery;
  h.status_tells_committed = c.status_tells_committed;
  h.mover_faults = c.mover_faults;
  if (c.rollback_fault) {
    h.rollback_fault = [&s, &c](const std::string& fault) { return c.rollback_fault(s, fault); };
  }
  runLifecycle(rig, h);
}

}  // namespace dbsplit::test
