// `catalogue` (step 1, DESIGN §6): finds every table access from the plan's
// [step.catalogue] sources (default pg_stat_statements). It plans no SQL action
// (it changes nothing in PostgreSQL); its snapshot is the step's journal record,
// stored when the step is applied and deleted when it is rolled back.
#pragma once

#include "engine/step.h"

namespace dbsplit::steps {

// The registry's instance.
const engine::Step* catalogueStep();

}  // namespace dbsplit::steps
