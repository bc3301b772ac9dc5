// Helpers the relay's files share (relay.cc, batch.cc, follow.cc): how it
// connects and the guard on cursor updates (its consumer-side transactions
// are pg::Transaction).
#pragma once

#include <string>

#include "pg/session.h"
#include "pg/transaction.h"
#include "relay/relay.h"

namespace dbsplit::relay {

inline pg::ConnectOptions connectOptions(const std::string& dsn, const RelayOptions& o) {
  pg::ConnectOptions c;
  c.dsn = dsn;
  c.application_name = "dbsplit/" + o.migration + "/" + o.application;
  return c;
}

// Every cursor update is guarded by the snapshot the relay read it at: one
// that touches no row means someone else moved the cursor meanwhile.
void requireCursorUpdated(const pg::Result& r, const std::string& consumer,
                          const std::string& outbox);

}  // namespace dbsplit::relay
