#include "steps/registry.h"

#include <cstdlib>
#include <cstring>

#include "steps/catalogue.h"
#include "steps/outbox.h"
#include "steps/ownership.h"
#include "steps/projections.h"
#include "steps/selftest.h"

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
  // The six playbook steps register here, in order, as they land:
  // catalogue, ownership, outbox, projections, revoke, split.
  list.push_back(ownershipStep());
  list.push_back(outboxStep());
  list.push_back(projectionsStep());
  return list;
}

}  // namespace dbsplit::steps
