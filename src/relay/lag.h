// Lag of every consumer's relay cursors (for `status`), read-only: the
// committed events each cursor has not applied yet, counted where its outbox
// is now (the source, or the owner's own database once the relay follows it
// there after a database-mode split's cutover).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "plan/plan.h"
#include "util/reporter.h"

namespace dbsplit::relay {

struct OutboxLag {
  std::string consumer;
  std::string outbox;
  std::int64_t events = 0;  // committed events not applied yet
  double seconds = 0;       // age of the oldest of them (0 when none)
  std::int64_t applied = 0;
  std::string snapshot;
  bool started = false;  // false: no cursor yet (projections not run)
};

// Lag of every consumer's cursors (for `status`), read-only. Consumers whose
// database cannot be reached are reported through `out` as warnings.
std::vector<OutboxLag> relayLag(const plan::Plan& plan, const std::string& main_dsn,
                                util::Reporter& out);

}  // namespace dbsplit::relay
