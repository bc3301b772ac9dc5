// Opening a migration's journal, shared by the engine and the commands that
// add to the journal outside a step (catalogue --store, the demo): the default
// .dbsplit/ folder beside the plan is created, and a journal belongs to the
// migration that wrote it first.
#pragma once

#include <memory>

#include "journal/journal.h"
#include "plan/plan.h"

namespace dbsplit::engine {

// For writing: created if missing and claimed for plan.migration.name when it
// has no owner yet. Error(kDrift, "journal_mismatch") when another migration
// owns it.
std::unique_ptr<journal::Journal> openJournalForWriting(const plan::Plan& plan);

// Error(kDrift, "journal_mismatch") when `journal` belongs to another migration.
void checkJournalOwner(const plan::Plan& plan, journal::Journal& journal);

}  // namespace dbsplit::engine
