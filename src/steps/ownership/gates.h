// The ownership step's gates over the latest catalogue snapshot (DESIGN §6,
// issue 5 "Validation against the catalogue"). Pure functions of the plan and
// the snapshot's JSON, so they are unit-tested without a database:
//   non_owner_writes    a service writes a table another service owns, and no
//                       [[waiver]] accepts it: blocks (exit 3)
//   undeclared_tables   a table used by two or more services has no [[table]]
//                       owner: blocks
//   shared_login_roles  one login role seen acting for two services: flagged
// Snapshot body: {"accesses":[{"service","role","table","kind","columns",
// "calls","via","fingerprint","statement"}],"unresolved":[...]}.
#pragma once

#include <vector>

#include "engine/step.h"
#include "journal/journal.h"
#include "plan/plan.h"

namespace dbsplit::steps::ownership {

// `snapshot` is null when no catalogue snapshot was ever stored: every gate
// passes and says how to get one.
std::vector<engine::Gate> catalogueGates(const plan::Plan& plan,
                                         const journal::SnapshotRecord* snapshot);

}  // namespace dbsplit::steps::ownership
