// The long-running parts of the split step's database mode, as engine movers
// (engine/mover.h): the schema copy, the subscription, the catch-up with
// progress, and the fenced cutover. Each is resumable: the engine checks the
// action's `verify` before calling it, and each mover tolerates finding part
// of its work done.
#pragma once

#include <string>

#include "engine/mover.h"

namespace dbsplit::split {

// Registers split.copy_schema, split.subscribe, split.catchup and split.cutover.
// Idempotent.
void registerMovers();

void copySchema(engine::MoverContext& ctx);
void subscribe(engine::MoverContext& ctx);
void catchUp(engine::MoverContext& ctx);
void cutover(engine::MoverContext& ctx);

// The table in the new database's service schema that holds the cutover
// position of the service's outbox (split.cutover writes it; the relay reads
// it to follow the outbox there; docs/steps/split.md).
inline constexpr const char* kCutoverTable = "dbsplit_cutover";

// Order-independent content hash and row count of one table, comparable
// between two databases holding the same column types: sum of the first 60
// bits of md5(row::text) over every row.
struct TableDigest {
  long long rows = 0;
  std::string hash;
  bool operator==(const TableDigest& o) const { return rows == o.rows && hash == o.hash; }
};

}  // namespace dbsplit::split
