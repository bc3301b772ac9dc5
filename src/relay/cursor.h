// The relay's state on the consumer side (COMMON contract): the cursor table
// <consumer>.dbsplit_cursor (outbox, seq, snapshot, applied, updated_at,
// outbox_database; templates/projections/cursor.sql) and the backfill table
// <consumer>.dbsplit_backfill (one row per committed key range of a
// projection, inserted with the range's rows: the snapshot the first
// range was copied at, the low watermark, the last key copied, the rows so
// far, whether it was the last range). Inserts only, so a range can commit
// inside a REPEATABLE READ transaction that imported an older snapshot.
// Both live in the database holding the projections.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "pg/session.h"
#include "plan/qualified_name.h"

namespace dbsplit::relay {

plan::QualifiedName cursorTable(const std::string& consumer);
plan::QualifiedName backfillTable(const std::string& consumer);

struct Cursor {
  std::int64_t seq = 0;
  std::string snapshot;
  std::int64_t applied = 0;
  // Column outbox_database (nullable): empty = the outbox is read in the
  // migration's database; else the name of the owner's own database, where the
  // relay follows it since a database-mode split's cutover (seq and snapshot then refer to that
  // database's outbox and server; docs/steps/projections.md).
  std::string database;
};

std::optional<Cursor> readCursor(pg::Session& target, const std::string& consumer,
                                 const std::string& outbox);

// The cursor's low watermark alone (column seq: every event of `outbox` with
// a smaller seq is applied): all that readers other than the relay rely on
// (outbox prune), so a cursor table needs no more than (outbox, seq) for them.
std::optional<std::int64_t> readLowWatermark(pg::Session& target, const std::string& consumer,
                                             const std::string& outbox);

struct BackfillState {
  int range_no = 0;      // of the latest committed range
  std::string snapshot;  // where the first copy started: the relay starts here
  std::int64_t seq = 1;  // low watermark valid for that snapshot
  std::string last_key;  // JSON array of the last copied key's text values; "" = none yet
  std::int64_t rows = 0;
  bool complete = false;
};

std::optional<BackfillState> readBackfill(pg::Session& target, const std::string& consumer,
                                          const std::string& projection);

// The advisory lock key text of a consumer's relay (COMMON contract):
// hashtext('dbsplit/relay/' || migration || '/' || consumer).
std::string relayLockText(const std::string& migration, const std::string& consumer);

}  // namespace dbsplit::relay
