#include "steps/registry.h"

#include <cstdlib>
#include <cstring>

#include "steps/catalogue.h"
#include "steps/outbox.h"
#include "steps/ownership.h"
#include "steps/projections.h"
#include "steps/revoke.h"
#include "steps/selftest.h"
#include "steps/split.h"
#include "steps/split_finalize.h"

namespace dbsplit::steps {

bool testStepsEnabled() {
  const char* v = std::getenv("DBSPLIT_TEST_STEPS");
  return v && std::strcmp(v, "1") == 0;
}

engine::StepList registry() {
  static const SelftestStep selftest;
  engine::StepList list;
  if (testStepsEnabled()) list.push_back(&selftest);
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
