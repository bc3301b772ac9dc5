// The journal's actions checked against the database before any of their SQL
// runs (DESIGN §5.9): the journal is a file on disk, the markers are written
// by the same transactions as the effects, so the markers are the witness.
#pragma once

#include <string>
#include <vector>

#include "engine/targets.h"
#include "journal/journal.h"

namespace dbsplit::engine {

// Recomputes the sha256 chain of `records` (one step's actions, in order) and
// compares it with the hashes the journal stored, with the hash of every
// marker of those actions in its database, and with the step's chain row in
// the migration's database (markers::chain). Throws Error(kDrift,
// "journal_tampered") naming each mismatch; runs no SQL of the journal.
void checkIntegrity(const std::vector<journal::ActionRecord>& records, Targets& targets,
                    const std::string& migration, const std::string& step);

}  // namespace dbsplit::engine
