// The one step registry (STYLE: "one table"): the steps of this build in
// playbook order. Used by the command line (help, run --next, status) and given
// to the engine. A step appears here only once it works.
#pragma once

#include "engine/step.h"

namespace dbsplit::steps {

// The steps in order. The engine's test step `selftest` is included only when
// DBSPLIT_TEST_STEPS=1 (tests, benchmarks and the demo use it).
engine::StepList registry();

bool testStepsEnabled();

}  // namespace dbsplit::steps
