// Helpers the relay's files share (relay.cc, batch.cc, follow.cc): how it
// connects, its consumer-side transaction, and the guard on cursor updates.
#pragma once

#include <string>

#include "pg/session.h"
#include "relay/relay.h"

namespace dbsplit::relay {

inline pg::ConnectOptions connectOptions(const std::string& dsn, const RelayOptions& o) {
  pg::ConnectOptions c;
  c.dsn = dsn;
  c.application_name = "dbsplit/" + o.migration + "/" + o.application;
  return c;
}

// A transaction that has not committed when it goes out of scope rolls back.
class TargetTx {
 public:
  explicit TargetTx(pg::Session& s) : s_(s) { s_.exec("BEGIN"); }
  ~TargetTx() {
    if (open_) {
      try {
        s_.exec("ROLLBACK");
      } catch (...) {
      }
    }
  }
  void commit() {
    s_.exec("COMMIT");
    open_ = false;
  }
  void rollback() {
    open_ = false;
    s_.exec("ROLLBACK");
  }

 private:
  pg::Session& s_;
  bool open_ = true;
};

// Every cursor update is guarded by the snapshot the relay read it at: one
// that touches no row means someone else moved the cursor meanwhile.
void requireCursorUpdated(const pqxx::result& r, const std::string& consumer,
                          const std::string& outbox);

}  // namespace dbsplit::relay
