// `split` (step 6, DESIGN §6): the ownership becomes physical. Schema mode
// moves each owned table (every partition too; indexes, constraints and owned
// sequences follow) into the owner's schema with ALTER TABLE ... SET SCHEMA,
// one action each under the engine's lock_timeout and retries, and prepends
// that schema to the search_path of the owner's login roles in this database
// (the prior setting restored exactly on rollback). Before anything moves, a
// gate lists every function body that names a moving table without a schema
// and every non-owner role holding privileges on one; the plan accepts them
// with [step.split] allow_unqualified = true. Database mode adds, per service
// with a `database`, a copy of its schema there, logical replication and a
// fenced cutover (src/split). docs/steps/split.md has the details.
#pragma once

#include "engine/step.h"

namespace dbsplit::steps {

// The registry's instance.
const engine::Step* splitStep();

}  // namespace dbsplit::steps
