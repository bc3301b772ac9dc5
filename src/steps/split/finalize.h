// `dbsplit split finalize`: the one irreversible command (DESIGN §1). After a
// database-mode split whose cutover is done, it drops the subscription in each
// service's new database, the replication slot and publication on the source,
// and the moved tables from the source. Every action has an empty inverse, so
// the engine journals them as irreversible and asks first (or needs --yes,
// else exit 5). A standalone step: outside the six-step order, never run by
// `run --next` or `run --all`.
#pragma once

#include "engine/step.h"

namespace dbsplit::steps {

const engine::Step* splitFinalizeStep();

}  // namespace dbsplit::steps
