// The PgBouncer movers of the split step, registered with the engine.
//   split.pgbouncer_reconnect  RECONNECT every pool in front of the migration's
//                              database ({"database": name}), each once it
//                              logs no server connection in; repeatable.
//   split.pgbouncer_pause      database mode, before the fence: PAUSE the
//                              service's pools (bounded); its undo RESUMEs them.
//   split.pgbouncer_resume     database mode, after the cutover: RESUME them.
// The pause and resume arguments: {"service", "pools": [names from the plan's
// `pgbouncer_pool`, or empty], "database": the source database, "target": the
// new database's name}. Without named pools, PAUSE takes every pool whose
// server database is the source database, and RESUME every paused pool whose
// server database is either (the on_cutover hook may have repointed it).
// All three look at SHOW DATABASES first and are repeatable: the engine
// cannot see PgBouncer, so resume and rollback simply run them again.
#pragma once

#include <chrono>

#include "engine/mover.h"

namespace dbsplit::pgbouncer {

// How long PAUSE may wait for a pool's server connections to go idle; the
// clients of the pool wait meanwhile (docs/steps/split.md).
inline constexpr std::chrono::milliseconds kPauseBound{5000};
// How long RECONNECT may wait for a moment a pool logs no server connection
// in; past it the pool is not reconnected (docs/steps/split.md#pgbouncer).
inline constexpr std::chrono::milliseconds kLoginQuietBound{5000};

void reconnectPools(engine::MoverContext& ctx);
void pausePools(engine::MoverContext& ctx);
void resumePools(engine::MoverContext& ctx);

// Registers the movers above (idempotent).
void registerMovers();

}  // namespace dbsplit::pgbouncer
