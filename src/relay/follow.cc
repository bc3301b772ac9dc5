// Following an outbox into its owner's own database after a database-mode
// split's cutover (docs/steps/projections.md): the relay drains the source up
// to the cutover position, then moves the cursor there in one consumer-side
// transaction.
#include "fmt/format.h"
#include "pg/conninfo.h"
#include "relay/cursor.h"
#include "relay/internal.h"
#include "relay/relay.h"

namespace dbsplit::relay {

void Relay::checkCutover(OutboxState& o, bool force) {
  if (o.cut || o.owner_dsn.empty()) return;
  auto now = std::chrono::steady_clock::now();
  if (!force && now - o.cut_checked < std::chrono::seconds(2)) return;
  o.cut_checked = now;
  if (!o.moved || !o.moved->isOpen()) {
    if (!databaseMayExist(*source_, options_.main_dsn, o.owner_dsn)) return;  // not created yet
    pg::ConnectOptions c = connectOptions(o.owner_dsn, options_);
    c.connect_timeout_s = 5;
    try {
      o.moved = pg::Session::connect(c);
    } catch (const Error&) {
      o.moved.reset();
      return;  // not created (yet): the outbox is on the source
    }
  }
  OutboxCutover cut = readCutover(*o.moved, *source_, o.owner);
  if (cut.done) o.cut = cut;
}

bool Relay::follow(OutboxState& o, bool source_gone) {
  auto cursor = readCursor(*target_, options_.consumer, o.name);
  if (!cursor || !cursor->database.empty()) return false;
  // Drained: every source transaction that ended by the fence is applied (the
  // cursor covers the source's snapshot taken once the fenced writers had
  // ended), and no committed event is left beyond the cursor.
  if (!relay::covers(parseSnapshot(cursor->snapshot), parseSnapshot(o.cut->source_snapshot))) {
    return false;
  }
  if (!source_gone &&
      source_->execParams("SELECT 1 FROM " + o.table.quoted() +
                              " WHERE seq >= $1 AND NOT pg_visible_in_snapshot(txid, "
                              "$2::pg_snapshot) LIMIT 1",
                          cursor->seq, cursor->snapshot)
              .size() > 0) {
    return false;
  }
  const plan::QualifiedName table = cursorTable(options_.consumer);
  {
    pg::Transaction tx(*target_);
    // From the cutover position on: events with seq > cut.seq that the new
    // server's snapshot at the cutover does not see (the replicated ones,
    // with the source's txids, all have seq <= cut.seq and are applied).
    auto r = target_->execParams("UPDATE " + table.quoted() +
                                     " SET seq = $1, snapshot = $2::pg_snapshot,"
                                     " outbox_database = $3, updated_at = now()"
                                     " WHERE outbox = $4 AND snapshot::text = $5"
                                     "   AND outbox_database IS NULL",
                                 o.cut->seq + 1, o.cut->snapshot, o.cut->database, o.name,
                                 cursor->snapshot);
    requireCursorUpdated(r, options_.consumer, o.name);
    tx.commit();
  }
  o.followed = true;
  o.history.clear();
  o.mark_taken = {};
  o.idle_write = {};
  o.sequence =
      o.moved->scalar("SELECT pg_get_serial_sequence($1, 'seq')", o.table.quoted()).value_or("");
  out_.event({{"event", "relay_outbox_followed"},
              {"consumer", options_.consumer},
              {"outbox", o.name},
              {"database", pg::redactDsn(o.owner_dsn)},
              {"seq", o.cut->seq},
              {"snapshot", o.cut->snapshot},
              {"applied", cursor->applied}},
             fmt::format("relay of {}: {} drained on the source; following it into its owner's "
                         "database {} from the cutover (seq > {})",
                         options_.consumer, o.name, pg::redactDsn(o.owner_dsn), o.cut->seq));
  return true;
}

std::int64_t Relay::pollOutbox(OutboxState& o) {
  checkCutover(o, false);
  if (!o.cut || o.followed) return pollOnce(o);
  // The owner was cut over: drain the source, then follow.
  if (!source_->scalar("SELECT to_regclass($1)::text", o.table.quoted())) {
    // The source's outbox was dropped (by hand: split finalize keeps it).
    if (follow(o, true)) return pollOnce(o);
    throw Error::stepFailed(
        "relay_not_drained",
        fmt::format("{} was dropped from the source before consumer {}'s relay had applied all "
                    "of its events",
                    o.name, options_.consumer),
        "the events are in the owner's database up to the cutover; rebuild the projections "
        "(`dbsplit rollback projections`, `dbsplit run projections`)");
  }
  std::int64_t n = pollOnce(o);
  follow(o, false);
  return n;
}

}  // namespace dbsplit::relay
