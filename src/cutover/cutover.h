// The fenced switch of a database-mode split (split.cutover), as an engine
// mover (engine/mover.h): it runs right after the fence action revoked every
// write to the service's tables on the source, waits for the target to hold
// exactly the source's rows, copies the sequences, runs the on_cutover hook
// and records the outbox's cutover position for the relay.
#pragma once

#include <string>

#include "engine/mover.h"

namespace dbsplit::cutover {

// Registers split.cutover. Idempotent.
void registerMover();

void cutover(engine::MoverContext& ctx);

// The table in the new database's service schema that holds the cutover
// position of the service's outbox (split.cutover writes it; the relay reads
// it to follow the outbox there; docs/steps/split.md).
inline constexpr const char* kCutoverTable = "dbsplit_cutover";

// Order-independent content hash and row count of one table, comparable
// between two databases holding the same column types: the sum of
// hashtextextended(row::text) over every row, read with the same output
// settings on both sides (about a third of md5's cost).
struct TableDigest {
  long long rows = 0;
  std::string hash;
  bool operator==(const TableDigest& o) const { return rows == o.rows && hash == o.hash; }
};

}  // namespace dbsplit::cutover
