// Data movers (DESIGN §2): long-running work that an action stands for but that
// is not one SQL statement (a snapshot backfill, a replication catch-up, a
// fenced cutover). A step names the mover in Action::mover; the engine calls it
// in apply and resume only, after `verify` said the work is not done yet, and
// requires `verify` to say it is done afterwards. A mover must be resumable: it
// may be killed at any point and called again.
//
// Register movers from the step's factory function (e.g. inside
// projectionsStep()), not from a static initializer: an object file of a static
// library whose only content is a static initializer is never linked.
//
// Thread-safety: register before any run starts; lookups are read-only.
#pragma once

#include <functional>
#include <string>

#include "engine/action.h"
#include "plan/plan.h"
#include "util/reporter.h"

namespace dbsplit::journal {
class Journal;
}

namespace dbsplit::engine {

struct MoverContext {
  const plan::Plan& plan;
  const Action& action;  // action.mover_args holds the mover's JSON arguments
  util::Reporter& out;
  std::string main_dsn;    // the migration's database (may hold a password: never print)
  std::string target_dsn;  // action.database's DSN, or main_dsn when it is empty
  int lock_timeout_ms = 500;
  std::string application_name;         // "dbsplit/<migration>/<step>": use it for connections
  journal::Journal* journal = nullptr;  // the run's journal (relay_start and such records)
  std::function<void()> check_alive;    // throws when the run lock was lost; call often
  // Call once the mover's effect may be visible outside the databases (the
  // on_cutover hook repointed the service): from then on a failure of the run
  // is never rolled back by the run itself; the step is left for `resume` (or
  // an explicit `rollback`). Journaled, so it holds until the step is applied
  // again or rolled back.
  std::function<void()> point_of_no_return;
};

using MoverFn = std::function<void(MoverContext&)>;

// Registers `fn` under `name`; registering a name again replaces it.
//
// `undo`, when given, is how the engine reverses the action outside the
// database (PgBouncer's PAUSE, which no SQL can see or undo): rollback calls
// it instead of running the action's `inverse` SQL, which then only describes
// it. An undo must be idempotent and safe when the mover never ran or ran in
// part: rollback also calls it for an action a crash interrupted before its
// marker committed (journal `started`, no marker), because such a mover may
// have left its effect behind without the database showing it.
void registerMover(const std::string& name, MoverFn fn, MoverFn undo = {});
// The mover registered under `name`; throws Error(kStepFailed, "unknown_mover").
const MoverFn& findMover(const std::string& name);
// The undo registered with `name`; nullptr when it has none (or no such mover).
const MoverFn* findUndo(const std::string& name);

}  // namespace dbsplit::engine
