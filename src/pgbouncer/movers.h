// The PgBouncer movers of the split step, registered with the engine.
//   split.pgbouncer_reconnect  RECONNECT every pool in front of the migration's
//                              database ({"database": name}); repeatable.
#pragma once

#include "engine/mover.h"

namespace dbsplit::pgbouncer {

void reconnectPools(engine::MoverContext& ctx);

// Registers the movers above (idempotent).
void registerMovers();

}  // namespace dbsplit::pgbouncer
