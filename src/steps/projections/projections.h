// `projections` (step 4, DESIGN §6): consumer-owned read models. Per
// [[projection]]: a table in the consumer's schema (in the shared database, or
// in the consumer's own database when its [[service]] names one) with the
// declared columns, the source's types and the declared key; per consumer: the
// relay cursor and backfill tables; then the data movers: a snapshot backfill
// per projection and one start (cursors + a first catch-up of the relay).
// docs/steps/projections.md has the details.
#pragma once

#include "engine/step.h"

namespace dbsplit::steps {

// The registry's instance. Also registers the step's data movers.
const engine::Step* projectionsStep();

}  // namespace dbsplit::steps
