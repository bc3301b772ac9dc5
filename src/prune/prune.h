// Retention for the outbox tables: `dbsplit outbox prune --older-than 7d`.
// Deletes only events every consumer has passed (docs/steps/outbox.md,
// "Retention"): an event is pruned when it is older than the cutoff AND its
// `seq` is below the cursor of every consumer that projects a table of the
// service. Cursor contract (kept by the projections relay):
//   <consumer>.dbsplit_cursor (outbox text PRIMARY KEY, seq bigint NOT NULL)
//   one row per outbox it reads, `outbox` = 'orders.outbox'; `seq` = every
//   event of that outbox with a smaller seq is applied (a low watermark).
// A consumer without that table or row blocks pruning of that service.
// A data mover (DESIGN §2): it writes rows under the migration's run lock.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "plan/plan.h"
#include "util/reporter.h"

namespace dbsplit::prune {

struct PruneOptions {
  std::string dsn;
  std::int64_t older_than_ms = 0;
  bool dry_run = false;  // count, delete nothing
  int batch = 10000;     // rows per DELETE transaction (short locks, small WAL bursts)
};

struct PruneResult {
  std::string service;
  std::int64_t deleted = 0;               // or, in a dry run, would be deleted
  std::optional<std::int64_t> below_seq;  // the consumers' minimum cursor; none: no consumers
  std::vector<std::string> blocked_by;    // why nothing may be pruned
  bool outbox_missing = false;
  // Where the outbox was pruned when a database-mode split moved it into the
  // service's own database (DSN without password); empty: the migration's.
  std::string database;
};

// Consumers with a [[projection]] on a table owned by `service`, in plan order.
std::vector<std::string> consumersOf(const plan::Plan& plan, const std::string& service);

std::vector<PruneResult> prune(const plan::Plan& plan, const PruneOptions& options,
                               util::Reporter& out);

}  // namespace dbsplit::prune
