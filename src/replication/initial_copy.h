// The initial copy of database mode (split.subscribe), done by dbsplit rather
// than by the subscription's table-sync workers: a slot made over the
// replication protocol exports the snapshot of its starting point; the
// service's tables are copied in that snapshot over several connections at
// once, COPY TO on the source streamed straight into COPY FROM on the target;
// the subscription then starts at the slot with copy_data = false. Every row
// committed before the slot is in the copy, every later change in the slot's
// stream, so nothing is missed or applied twice.
//
// Why not copy_data = true: PostgreSQL 15 syncs a table through one worker
// that starts a few seconds late and holds a slot of its own; dbsplit's copy
// ran 3x faster on 2,000,000 rows (bench/split.sh, sync).
#pragma once

#include <string>
#include <vector>

#include "engine/mover.h"
#include "pg/session.h"
#include "replication/endpoints.h"

namespace dbsplit::replication {

struct CopyTotals {
  long long rows = 0;
  int tables = 0;
  int connections = 0;
};

// True when `target` may skip the target's triggers and foreign-key checks
// while it loads rows (session_replication_role = replica, as the
// subscription's own workers do): a superuser. Without it the caller lets the
// subscription copy the rows itself.
bool canLoadAsReplica(pg::Session& target);

// Creates the logical slot a.name on the source with an exported snapshot and
// copies `tables` (quoted, qualified names, the same in both databases) from
// that snapshot into the target, emptied first: a copy an interrupted run left
// half done is started over. Throws on any failure; the slot may then be left
// behind (a later call drops it first).
CopyTotals createSlotAndCopy(engine::MoverContext& ctx, const MoverArgs& a,
                             const std::vector<std::string>& tables);

// Drops the slot a.name of the source's database if it exists, waiting
// (bounded) for a walsender to let go of it.
void dropSlotIfExists(pg::Session& source, const std::string& name);

}  // namespace dbsplit::replication
