// The long-running parts of the split step's database mode before the cutover,
// as engine movers (engine/mover.h): the schema copy, the subscription and the
// catch-up with progress. Each is resumable: the engine checks the action's
// `verify` before calling it, and each mover tolerates finding part of its
// work done. The fenced switch itself is src/cutover.
#pragma once

#include "engine/mover.h"

namespace dbsplit::replication {

// Registers split.create_database, split.copy_schema, split.subscribe and
// split.catchup. Idempotent.
void registerMovers();

void createDatabase(engine::MoverContext& ctx);
void copySchema(engine::MoverContext& ctx);
void subscribe(engine::MoverContext& ctx);
// The undo of split.subscribe: drops the subscription, then the slot.
void unsubscribe(engine::MoverContext& ctx);
void catchUp(engine::MoverContext& ctx);

}  // namespace dbsplit::replication
