// The snapshot backfill of one projection (DESIGN §6): a REPEATABLE READ
// transaction on the source exports its snapshot and stays open while the rows
// are copied key range by key range under it: in the same database, each range
// is one INSERT ... SELECT in a transaction that imported the snapshot; into a
// consumer database, a worker that imported it streams COPY (SELECT ...) TO
// STDOUT straight into COPY ... FROM STDIN, never holding a table in memory.
// Each range commits together with its row in <consumer>.dbsplit_backfill, so
// a killed backfill resumes after the last committed range. An empty
// projection is filled without its primary key: the first range's transaction
// drops it, the last one's adds it back (ProjectionSpec::primaryKeyName), so
// "complete" and "has its key" commit together; a duplicate key fails there. The first
// snapshot is kept: the relay starts there (events the copy already saw are
// replayed, which is harmless since each event carries the whole projected row).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "relay/spec.h"
#include "util/reporter.h"

namespace dbsplit::backfill {

struct BackfillOptions {
  std::string main_dsn;
  std::string migration;
  std::int64_t chunk_rows = 1000000;  // rows per committed key range
  int settle_ms = 5000;               // how long to wait for older transactions before exporting
  int lock_timeout_ms = 500;          // for the projection's locks (dropping and adding its key)
  // Called after each committed range (the engine's liveness check and
  // fault points); may throw to stop.
  std::function<void(int range_no)> after_range;
};

struct BackfillResult {
  std::int64_t rows = 0;  // copied by this call
  bool resumed = false;   // continued an earlier, interrupted backfill
  bool already_complete = false;
};

BackfillResult backfill(const relay::ProjectionSpec& p, const BackfillOptions& options,
                        util::Reporter& out);

// Creates the consumer's relay cursor for each outbox its projections read,
// once every one of them is backfilled: its snapshot is the intersection of
// their backfill snapshots, its low watermark their smallest. Existing cursors
// are left alone. Returns how many it created.
int startCursors(const std::vector<relay::ProjectionSpec>& specs, pg::Session& target);

}  // namespace dbsplit::backfill
