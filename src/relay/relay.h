// The relay of one consumer (DESIGN §6, docs/steps/projections.md): moves the
// events of every outbox its projections read into those projections, in
// commit-safe batches (PgQ-style snapshot batching), each batch applied in one
// transaction on the consumer side together with the cursor update, so every
// event takes effect exactly once even across databases.
//
// One relay per consumer at a time: the relay holds a session-level advisory
// lock on the source database (key hashtext('dbsplit/relay/<migration>/<consumer>')).
// Thread-safety: one Relay per thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "journal/journal.h"
#include "pg/session.h"
#include "plan/plan.h"
#include "relay/apply.h"
#include "relay/chunks.h"
#include "relay/snapshot.h"
#include "relay/spec.h"
#include "util/reporter.h"

namespace dbsplit::relay {

struct RelayOptions {
  std::string main_dsn;  // the migration's database (the outboxes live there)
  std::string migration;
  std::string consumer;
  std::string application = "relay";  // application_name: dbsplit/<migration>/<application>
  int batch = 10000;                  // events per consumer transaction (whole transactions)
  std::set<std::string> skip_events;  // event ids (--skip-event) never applied
  // Where relay_start snapshots and skipped events are recorded; may be null.
  journal::Journal* journal = nullptr;
  // Polled between batches: true stops the relay at the next boundary.
  std::function<bool()> stop;
};

class Relay {
 public:
  Relay(std::vector<ProjectionSpec> specs, RelayOptions options, util::Reporter& out);
  ~Relay();

  // Connects to the source and the consumer database and takes the relay lock;
  // throws Error(kLocked, "relay_lock_held") when another relay holds it and
  // Error(kPrecondition, "relay_not_started") when a cursor is missing.
  // Records a relay_start journal snapshot.
  void connect();
  bool connected() const;
  void disconnect();

  // One pass over every outbox: applies what is committed now, in batches of
  // at most `batch` events (whole transactions). Returns the events applied.
  std::int64_t poll();

  // The source's pg_current_snapshot().
  Snapshot sourceSnapshot();

  // "Now", per outbox: the pg_current_snapshot() of the server its events are
  // read from (the owner's own database once a database-mode split cut it
  // over: the relay follows it there), keyed by outbox name.
  struct Position {
    Snapshot snapshot;
    bool moved = false;  // taken in the owner's own database
  };
  using Moment = std::map<std::string, Position>;
  Moment moment();

  // True when every cursor of this consumer has passed `t`
  // (xmin(cursor.snapshot) >= xmax(t), each against its own server's snapshot).
  bool caughtUpPast(const Moment& t);

  // True when every cursor of this consumer sees at least what `t` sees: every
  // event committed by then is applied (what --once and the step wait for).
  // A cursor that still reads the source of a moved outbox does not (it has
  // to follow first); one that follows it covers a source position (it drained
  // the source first).
  bool covers(const Moment& t);

  std::int64_t appliedTotal() const { return applied_total_; }

 private:
  struct OutboxState {
    std::string name;  // "orders.outbox"
    plan::QualifiedName table;
    std::string sequence;  // regclass text of the seq identity
    std::vector<const ProjectionSpec*> projections;
    // (N, L): the outbox sequence's value L, then a txid N assigned after it
    // was read; the low watermark may move to L+1 once a cursor's xmin >= N.
    std::deque<std::pair<std::uint64_t, std::int64_t>> history;
    // When the cursor last moved without events (at most once a second, so an
    // idle relay does not write a transaction every poll).
    std::chrono::steady_clock::time_point idle_write{};
    std::chrono::steady_clock::time_point mark_taken{};
    // Following the outbox into its owner's own database (spec.owner_dsn)
    // after a database-mode split's cutover: `moved` is a session there,
    // `cut` the cutover with its position once it is done, `followed` true
    // once the cursor reads there (the switch committed).
    std::string owner;
    std::string owner_dsn;
    std::unique_ptr<pg::Session> moved;
    std::optional<OutboxCutover> cut;
    bool followed = false;
    bool warned = false;
    std::chrono::steady_clock::time_point cut_checked{};
  };
  // follow.cc: drains a cut-over outbox's source, then follows it.
  std::int64_t pollOutbox(OutboxState& o);
  // batch.cc: one batch of o's events, applied chunk by chunk.
  std::int64_t pollOnce(OutboxState& o);
  // Where o's events are read: the source, or the owner's database once followed.
  pg::Session& reader(OutboxState& o) { return o.followed ? *o.moved : *source_; }
  // Looks for a finished cutover of o's owner (at most every few seconds
  // unless `force`); sets o.cut when it has a position.
  void checkCutover(OutboxState& o, bool force);
  // Once the source has nothing left for the cursor, switches it to the
  // owner's database in one consumer-side transaction. True when switched.
  bool follow(OutboxState& o, bool source_gone);
  std::vector<OutboxEvent> fetchChunk(OutboxState& o, const Chunk& c, std::int64_t lower);
  void applyChunk(OutboxState& o, const Chunk& c, const std::vector<OutboxEvent>& events,
                  std::int64_t wm, std::int64_t* new_wm);
  // Same database: the chunk applied by the server; false = use applyChunk.
  bool applyInPlace(OutboxState& o, const Chunk& c, std::int64_t lower, std::int64_t wm,
                    std::int64_t* new_wm);
  // The cursor update that commits with a chunk's rows.
  void moveCursor(OutboxState& o, const Chunk& c, std::int64_t wm, std::int64_t events);
  std::int64_t watermark(OutboxState& o, const Snapshot& s, std::int64_t wm);

  std::vector<ProjectionSpec> specs_;
  RelayOptions options_;
  util::Reporter& out_;
  std::unique_ptr<pg::Session> source_;
  std::unique_ptr<pg::Session> target_;
  std::vector<OutboxState> outboxes_;
  std::int64_t applied_total_ = 0;
};

}  // namespace dbsplit::relay
