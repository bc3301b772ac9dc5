// The relay's batching (PgQ-style, docs/steps/projections.md "Why the
// batching is correct"): one batch per poll, cut into chunks of whole
// transactions (chunks.h), each applied with its cursor update in one
// consumer-side transaction; and the low watermark that bounds the next read.
#include <algorithm>
#include <future>
#include <set>

#include "fmt/format.h"
#include "relay/apply.h"
#include "relay/chunks.h"
#include "relay/cursor.h"
#include "relay/internal.h"
#include "relay/relay.h"

namespace dbsplit::relay {

std::int64_t Relay::watermark(OutboxState& o, const Snapshot& s, std::int64_t wm) {
  // Every event with seq <= L was written by a transaction that had its txid
  // before L was read (the trigger runs after the row write, which assigned
  // it), so that txid is below N, taken after L. Once s.xmin >= N, every
  // transaction below N has ended (a running one below N would be below
  // s.xmax and so at least s.xmin), so those events are visible in s and
  // applied. (A snapshot's xmax is not enough: it is one past the latest
  // *completed* txid, and a transaction running with a larger txid is not in
  // its xip list.)
  while (!o.history.empty() && o.history.front().first <= s.xmin) {
    wm = std::max(wm, o.history.front().second + 1);
    if (o.history.size() == 1 || o.history[1].first > s.xmin) break;
    o.history.pop_front();
  }
  return wm;
}
std::int64_t Relay::pollOnce(OutboxState& o) {
  pg::Session& src = reader(o);
  auto cursor = readCursor(*target_, options_.consumer, o.name);
  if (!cursor) {
    throw Error::precondition(
        "relay_not_started",
        fmt::format("consumer \"{}\" has no relay cursor for {}", options_.consumer, o.name),
        "dbsplit run projections");
  }
  // The sequence's position L, then a fresh txid N (see watermark()), at most
  // once a second (N costs a transaction id).
  auto now = std::chrono::steady_clock::now();
  if (!o.sequence.empty() && now - o.mark_taken >= std::chrono::seconds(1)) {
    o.mark_taken = now;
    std::int64_t last = std::stoll(
        src.scalar("SELECT coalesce(pg_sequence_last_value($1::regclass), 0)", o.sequence)
            .value_or("0"));
    std::uint64_t fresh = std::stoull(*src.scalar("SELECT pg_current_xact_id()::text"));
    o.history.push_back({fresh, last});
  }
  const Snapshot cur = parseSnapshot(*src.scalar("SELECT pg_current_snapshot()::text"));
  const Snapshot prev = parseSnapshot(cursor->snapshot);

  // The batch (PgQ): events of transactions that ended by `cur` and had not
  // by `prev`. Grouped per transaction to cut it into chunks of whole
  // transactions ordered by their last seq (chunks.h).
  std::vector<TxGroup> groups;
  for (const auto& row :
       src.execParams("SELECT txid::text, count(*), min(seq), max(seq) FROM " + o.table.quoted() +
                          "\n WHERE seq >= $1"
                          "\n   AND pg_visible_in_snapshot(txid, $2::pg_snapshot)"
                          "\n   AND NOT pg_visible_in_snapshot(txid, $3::pg_snapshot)"
                          "\n GROUP BY txid",
                      cursor->seq, cur.str(), prev.str())) {
    groups.push_back({std::stoull(row[0].c_str()), row[1].as<std::int64_t>(),
                      row[2].as<std::int64_t>(), row[3].as<std::int64_t>()});
  }

  std::int64_t wm = cursor->seq;
  if (groups.empty()) {
    std::int64_t new_wm = watermark(o, cur, wm);
    bool moved = cur.str() != prev.str() && now - o.idle_write >= std::chrono::seconds(1);
    if (moved || new_wm != wm) {
      o.idle_write = now;
      pg::Transaction tx(*target_);
      auto r =
          target_->execParams("UPDATE " + cursorTable(options_.consumer).quoted() +
                                  " SET seq = $1, snapshot = $2::pg_snapshot, "
                                  "updated_at = now() WHERE outbox = $3 AND snapshot::text = $4",
                              new_wm, cur.str(), o.name, prev.str());
      requireCursorUpdated(r, options_.consumer, o.name);
      tx.commit();
    }
    return 0;
  }

  const std::vector<Chunk> chunks = planChunks(std::move(groups), prev, cur, options_.batch);

  std::int64_t applied = 0;
  if (specs_.front().target_dsn.empty() && options_.skip_events.empty() && !o.followed) {
    // Projections beside the outbox: each chunk is applied on the server.
    for (const Chunk& c : chunks) {
      std::int64_t new_wm = wm;
      if (!applyInPlace(o, c, c.lower, wm, &new_wm)) {
        applyChunk(o, c, fetchChunk(o, c, c.lower), wm, &new_wm);
      }
      wm = new_wm;
      applied += c.events;
      if (options_.stop && options_.stop()) break;
    }
    return applied;
  }
  // The next chunk is read from the source while this one is applied on the
  // consumer side (two connections, one thread each).
  auto fetch = [this, &o](const Chunk* c) { return fetchChunk(o, *c, c->lower); };
  std::future<std::vector<OutboxEvent>> next = std::async(std::launch::async, fetch, &chunks[0]);
  for (size_t k = 0; k < chunks.size(); ++k) {
    std::vector<OutboxEvent> events = next.get();
    bool more = k + 1 < chunks.size() && !(options_.stop && options_.stop());
    if (more) next = std::async(std::launch::async, fetch, &chunks[k + 1]);
    std::int64_t new_wm = wm;
    applyChunk(o, chunks[k], events, wm, &new_wm);
    wm = new_wm;
    applied += chunks[k].events;
    if (!more) break;
  }
  return applied;
}

std::vector<OutboxEvent> Relay::fetchChunk(OutboxState& o, const Chunk& c, std::int64_t lower) {
  std::vector<OutboxEvent> events;
  events.reserve(static_cast<size_t>(c.events));
  for (const auto& row : reader(o).execParams(
           "SELECT seq, id::text, source_table, op, coalesce(payload::text, '') FROM " +
               o.table.quoted() +
               "\n WHERE seq >= $1 AND seq <= $2"
               "\n   AND pg_visible_in_snapshot(txid, $3::pg_snapshot)"
               "\n   AND NOT pg_visible_in_snapshot(txid, $4::pg_snapshot)"
               "\n ORDER BY seq",
           lower, c.upper, c.to.str(), c.from.str())) {
    OutboxEvent e;
    e.seq = row[0].as<std::int64_t>();
    e.id = row[1].c_str();
    e.source_table = row[2].c_str();
    e.op = row[3].c_str()[0];
    e.payload = row[4].c_str();
    events.push_back(std::move(e));
  }
  if (static_cast<std::int64_t>(events.size()) != c.events) {
    throw Error::stepFailed(
        "relay_batch_changed",
        fmt::format("{}: the batch up to seq {} held {} events, {} were expected; was the outbox "
                    "changed by hand?",
                    o.name, c.upper, events.size(), c.events),
        "dbsplit relay retries from its cursor");
  }
  return events;
}

bool Relay::applyInPlace(OutboxState& o, const Chunk& c, std::int64_t lower, std::int64_t wm,
                         std::int64_t* new_wm) {
  ApplyResult result;
  pg::Transaction tx(*target_);
  // The projections, the cursor and the outbox share one server, whose WAL is
  // one sequence: a crash that loses this commit loses the rows and the cursor
  // together (the relay replays those events from the older cursor), and any
  // later synchronous commit that read the cursor (outbox prune, a gate)
  // flushes this one first. So the commit need not wait for its flush
  // (docs/steps/projections.md, "Apply").
  target_->exec("SET LOCAL synchronous_commit = off");
  try {
    if (!relay::applyInPlace(*target_, o.projections, o.table, lower, c.upper, c.from.str(),
                             c.to.str(), &result)) {
      tx.rollback();
      return false;
    }
  } catch (const Error&) {
    tx.rollback();
    if (!target_->isOpen()) throw;
    return false;  // the client path finds and names the event
  }
  *new_wm = watermark(o, c.to, wm);
  moveCursor(o, c, *new_wm, c.events);
  tx.commit();
  applied_total_ += c.events;
  out_.event({{"event", "relay_batch"},
              {"consumer", options_.consumer},
              {"outbox", o.name},
              {"events", c.events},
              {"last_seq", c.upper},
              {"upserted", result.rows_upserted},
              {"snapshot", c.to.str()}},
             {});
  return true;
}

void Relay::moveCursor(OutboxState& o, const Chunk& c, std::int64_t wm, std::int64_t events) {
  auto r =
      target_->execParams("UPDATE " + cursorTable(options_.consumer).quoted() +
                              " SET seq = $1, snapshot = $2::pg_snapshot, applied = applied + $3,"
                              " updated_at = now() WHERE outbox = $4 AND snapshot::text = $5",
                          wm, c.to.str(), events, o.name, c.from.str());
  requireCursorUpdated(r, options_.consumer, o.name);
}

void Relay::applyChunk(OutboxState& o, const Chunk& c, const std::vector<OutboxEvent>& events,
                       std::int64_t wm, std::int64_t* new_wm) {
  const Snapshot& next = c.to;
  *new_wm = watermark(o, next, wm);
  ApplyResult result;
  {
    pg::Transaction tx(*target_);
    try {
      result = applyEvents(*target_, o.projections, events, options_.skip_events);
    } catch (const Error& e) {
      tx.rollback();
      if (e.kind() == "relay_bad_event") throw;
      if (!target_->isOpen()) throw;
      if (auto bad =
              findBadEvent(*target_, o.projections, events, options_.skip_events, e.what())) {
        throw *bad;
      }
      throw;
    }
    moveCursor(o, c, *new_wm, static_cast<std::int64_t>(events.size()));
    tx.commit();
  }
  applied_total_ += static_cast<std::int64_t>(events.size());
  for (const OutboxEvent* e : result.skipped) {
    nlohmann::json ev = {{"event", "relay_skip"}, {"consumer", options_.consumer},
                         {"outbox", o.name},      {"id", e->id},
                         {"seq", e->seq},         {"source_table", e->source_table}};
    if (options_.journal) {
      journal::EventRecord rec;
      rec.kind = "relay_skip";
      rec.step = "projections";
      rec.json = ev.dump();
      options_.journal->logEvent(rec);
    }
    out_.event(ev, fmt::format("skipped event {} (seq {}) of {} as asked (--skip-event)", e->id,
                               e->seq, o.name));
  }
  out_.event({{"event", "relay_batch"},
              {"consumer", options_.consumer},
              {"outbox", o.name},
              {"events", events.size()},
              {"first_seq", events.empty() ? 0 : events.front().seq},
              {"last_seq", events.empty() ? 0 : events.back().seq},
              {"upserted", result.rows_upserted},
              {"deleted", result.rows_deleted},
              {"snapshot", next.str()}},
             {});
}

}  // namespace dbsplit::relay
