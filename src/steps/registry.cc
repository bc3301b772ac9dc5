#include "steps/registry.h"

#include <cstdlib>
#include <cstring>

#include "steps/catalogue/catalogue.h"
#include "steps/outbox/outbox.h"
#include "steps/ownership/ownership.h"
#include "steps/projections/projections.h"
#include "steps/revoke/revoke.h"
#include "steps/selftest/selftest.h"
#include "steps/split/finalize.h"
#include "steps/split/split.h"

namespace dbsplit::steps {

bool testStepsEnabled() {
  const char* v = std::getenv("DBSPLIT_TEST_STEPS");
  return v && std::strcmp(v, "1") == 0;
}

engine::StepList registry() {
  const engine::Step* selftest = selftestStep();  // registers its mover either way
  engine::StepList list;
  if (testStepsEnabled()) list.push_back(selftest);
  list.push_back(catalogueStep());
  // The six playbook steps, in order (the engine enforces it).
  list.push_back(ownershipStep());
  list.push_back(outboxStep());
  list.push_back(projectionsStep());
  list.push_back(revokeStep());
  list.push_back(splitStep());
  list.push_back(splitFinalizeStep());  // standalone: only `dbsplit split finalize` runs it
  return list;
}

}  // namespace dbsplit::steps
