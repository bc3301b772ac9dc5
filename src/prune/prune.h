// Retention for the outbox tables: `dbsplit outbox prune --older-than 7d`.
// Counting (--dry-run) and deleting are two functions the command chooses
// between; neither checks a flag.
// Deletes only events every consumer has passed (docs/steps/outbox.md,
// "Retention"): an event is pruned when it is older than the cutoff AND its
// `seq` is below the cursor of every consumer that projects a table of the
// service. The cursors are the relay's (relay/cursor.h): one row per outbox a
// consumer reads, whose `seq` is a low watermark (every event of that outbox
// with a smaller seq is applied).
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
  int batch = 10000;  // rows per DELETE transaction (short locks, small WAL bursts)
};

struct PruneResult {
  std::string service;
  std::int64_t deleted = 0;               // or, counted by countPrunable, would be deleted
  std::optional<std::int64_t> below_seq;  // the consumers' minimum cursor; none: no consumers
  std::vector<std::string> blocked_by;    // why nothing may be pruned
  bool outbox_missing = false;
  // Where the outbox was pruned when a database-mode split moved it into the
  // service's own database (DSN without password); empty: the migration's.
  std::string database;
};

// Consumers with a [[projection]] on a table owned by `service`, in plan order.
std::vector<std::string> consumersOf(const plan::Plan& plan, const std::string& service);

// What prune would delete, counted; deletes nothing (`--dry-run`). Takes the
// run lock as prune does, so it counts what a prune at that moment would see.
std::vector<PruneResult> countPrunable(const plan::Plan& plan, const PruneOptions& options);

// Deletes the prunable events of every publishing service, in batches of
// `options.batch` rows, each its own transaction.
std::vector<PruneResult> prune(const plan::Plan& plan, const PruneOptions& options,
                               util::Reporter& out);

}  // namespace dbsplit::prune
