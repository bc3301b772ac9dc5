// Moving data: a difference seen while the relay is behind is not a
// difference. The settle loop remembers the source snapshot S_T taken after
// the differences were seen, waits until the consumer's relay has caught up
// past it (DESIGN: pg_snapshot_xmin(cursor.snapshot) >= pg_snapshot_xmax(S_T)
// for every outbox the consumer reads), then re-reads only those keys on both
// sides. Keys that still differ are re-checked the same way, a bounded number
// of times; what is left is reported.
//
// Thread-safety: one RelayWatch per thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pg/session.h"

namespace dbsplit::compare {

// A pg_snapshot's text form "xmin:xmax:xip,..." (64-bit transaction ids).
struct Snapshot {
  std::uint64_t xmin = 0;
  std::uint64_t xmax = 0;
};
// nullopt when `text` is not a snapshot.
std::optional<Snapshot> parseSnapshot(const std::string& text);

// Where the relay stands relative to a moment on the source.
enum class RelayState {
  kCaughtUp,    // every outbox's cursor is past the moment
  kNotRunning,  // no cursor table or row, or no relay process and the cursor is behind
  kTimeout,     // a relay is running but did not catch up in time
};

class RelayWatch {
 public:
  // `source`: the source database (snapshots, the relay's advisory lock);
  // `consumer_db`: where the consumer's projections and cursor live.
  // `owner_dsns`: per outbox, the DSN of its owner's own database where a
  // database-mode split moves it (absent: it stays on the source). A cursor
  // that follows an outbox there (column outbox_database) holds that server's
  // snapshots, so it is compared against that server's moment.
  RelayWatch(pg::Session& source, pg::Session& consumer_db, std::string migration,
             std::string consumer, std::vector<std::string> outboxes,
             std::map<std::string, std::string> owner_dsns = {});

  // pg_current_snapshot() on the source, as text (the moment); it also takes
  // the moment in every owner database that exists.
  std::string sourceSnapshot();

  // Waits until the relay is past `moment` (a source snapshot), up to `deadline`.
  // `why` says what is wrong when the result is not kCaughtUp.
  RelayState waitPast(const std::string& moment, std::chrono::steady_clock::time_point deadline,
                      std::string* why);

 private:
  struct CursorAt {
    Snapshot snapshot;
    bool followed = false;  // reads the owner's own database (outbox_database set)
  };
  // The cursor snapshots of every outbox, or the reason they cannot be read.
  std::optional<std::vector<CursorAt>> cursors(std::string* why);
  bool relayLockHeld();

  pg::Session& source_;
  pg::Session& consumer_db_;
  std::string migration_;
  std::string consumer_;
  std::vector<std::string> outboxes_;
  std::map<std::string, std::string> owner_dsns_;
  std::map<std::string, std::unique_ptr<pg::Session>> owner_dbs_;
  std::map<std::string, Snapshot> owner_moments_;  // taken with the last sourceSnapshot()
};

}  // namespace dbsplit::compare
