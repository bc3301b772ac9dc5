// The unit the engine runs, journals, resumes and reverses (DESIGN §2). Steps
// build Actions; only the engine executes them.
#pragma once

#include <string>
#include <vector>

#include "journal/journal.h"

namespace dbsplit::engine {

struct LockSpec {
  std::string mode;         // strongest lock the action takes: "ACCESS EXCLUSIVE", ... or "none"
  std::string target;       // what it is taken on: "public.orders", "database", ...
  std::string str() const;  // "ACCESS EXCLUSIVE on public.orders" or "none"
};

struct Action {
  std::string id;           // stable: "<step>/<kind>/<object>"
  std::string description;  // one line for people
  std::string forward;      // SQL that makes the change
  std::string inverse;      // SQL that undoes it exactly; empty = irreversible
  LockSpec lock;
  // false for statements PostgreSQL refuses inside a transaction block (CREATE
  // INDEX CONCURRENTLY, CREATE SUBSCRIPTION, ...). Such an action must have a
  // `verify` query: it is how resume learns whether it ran.
  bool transactional = true;
  std::string verify;        // SQL returning one boolean: true when the effect is present
  bool destructive = false;  // asks for confirmation before it runs
  // Where it runs: "" = the migration's database; otherwise the name of a
  // [[service]] whose `database` the engine connects to (engine/targets.h).
  // The marker of a transactional action lives in that database too.
  std::string database;
  // A data mover (backfill, catch-up, cutover) instead of SQL: the engine calls
  // the mover registered under this name (engine/mover.h) and `forward` only
  // describes it for people. Such an action is never transactional: rehearse
  // skips it and `verify` (required) tells whether it is done, before and after
  // it runs. `inverse` stays SQL.
  std::string mover;
  std::string mover_args;  // JSON handed to the mover
  std::string sha256;      // filled by chainHashes()

  bool irreversible() const { return inverse.empty(); }
};

// Fills each action's sha256 = H(previous hash, id, forward, inverse), so the
// last hash names the whole ordered list: any change to any action changes it.
void chainHashes(std::vector<Action>& actions);

// The digest of a step's whole action list, over what the chain leaves out:
// H(last chain hash, then per action its verify query and whether it is
// transactional). Recorded in the database before the step's first action runs
// (markers::recordChain); with the chain it covers every field the engine runs.
// REQUIRES: chainHashes(actions) was called.
std::string chainDigest(const std::vector<Action>& actions);

journal::ActionRecord toRecord(const Action& action, const std::string& step, int seq);
Action fromRecord(const journal::ActionRecord& record);

}  // namespace dbsplit::engine
