// The relay (see relay.h; the batching argument is in docs/steps/projections.md).
#include "relay/relay.h"

#include <algorithm>
#include <future>
#include <map>
#include <set>

#include "fmt/format.h"
#include "pg/conninfo.h"
#include "relay/apply.h"
#include "relay/cursor.h"
#include "sql/quote.h"

namespace dbsplit::relay {
namespace {

pg::ConnectOptions connectOptions(const std::string& dsn, const RelayOptions& o) {
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
                          const std::string& outbox) {
  if (r.affected_rows() == 1) return;
  throw Error::stepFailed(
      "relay_cursor_moved",
      fmt::format("the cursor of {} for {} moved under the relay", consumer, outbox),
      "is another relay writing to it without the relay lock?");
}

}  // namespace

Relay::Relay(std::vector<ProjectionSpec> specs, RelayOptions options, util::Reporter& out)
    : specs_(std::move(specs)), options_(std::move(options)), out_(out) {
  for (const ProjectionSpec& p : specs_) {
    auto it = std::find_if(outboxes_.begin(), outboxes_.end(),
                           [&](const OutboxState& o) { return o.name == p.outbox.display(); });
    if (it == outboxes_.end()) {
      OutboxState o;
      o.name = p.outbox.display();
      o.table = p.outbox;
      o.owner = p.owner;
      o.owner_dsn = p.owner_dsn;
      outboxes_.push_back(std::move(o));
      it = outboxes_.end() - 1;
    }
    it->projections.push_back(&p);
  }
}

Relay::~Relay() = default;

bool Relay::connected() const {
  for (const auto& o : outboxes_) {
    if (o.followed && !(o.moved && o.moved->isOpen())) return false;
  }
  return source_ && target_ && source_->isOpen() && target_->isOpen();
}

void Relay::disconnect() {
  source_.reset();
  target_.reset();
  for (auto& o : outboxes_) {
    o.moved.reset();
    o.cut.reset();
    o.followed = false;
  }
}

void Relay::connect() {
  disconnect();
  for (auto& o : outboxes_) o.history.clear();
  source_ = pg::Session::connect(connectOptions(options_.main_dsn, options_));
  const std::string target_dsn = specs_.empty() ? "" : specs_.front().target_dsn;
  target_ = target_dsn.empty() ? pg::Session::connect(connectOptions(options_.main_dsn, options_))
                               : pg::Session::connect(connectOptions(target_dsn, options_));
  auto got = source_->scalar("SELECT pg_try_advisory_lock(hashtext($1)::bigint)",
                             relayLockText(options_.migration, options_.consumer));
  if (got.value_or("f") != "t") {
    auto holder = source_->scalar(
        "SELECT format('pid %s (%s) since %s', a.pid, a.application_name, a.backend_start)"
        "  FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
        " WHERE l.locktype = 'advisory' AND l.granted"
        "   AND l.objid = (hashtext($1)::bigint & 4294967295)::oid AND l.objsubid = 1",
        relayLockText(options_.migration, options_.consumer));
    disconnect();
    throw Error(ExitCode::kLocked, "relay_lock_held",
                fmt::format("another relay of consumer \"{}\" is running{}", options_.consumer,
                            holder ? ": " + *holder : ""),
                "one relay per consumer: stop the other one, or let it do the work");
  }
  for (auto& o : outboxes_) {
    auto cursor = readCursor(*target_, options_.consumer, o.name);
    if (!cursor) {
      std::string c = options_.consumer;
      disconnect();
      throw Error::precondition(
          "relay_not_started",
          fmt::format("consumer \"{}\" has no relay cursor for {} yet", c, o.name),
          "dbsplit run projections (it backfills the projections and starts the relay)");
    }
    checkCutover(o, true);
    if (!cursor->database.empty()) {
      if (!o.cut && !o.moved && !o.owner_dsn.empty()) {
        // The owner's database does not answer: a connection error (retried).
        pg::ConnectOptions c = connectOptions(o.owner_dsn, options_);
        c.connect_timeout_s = 5;
        o.moved = pg::Session::connect(c);
        checkCutover(o, true);
      }
      if (!o.cut) {
        std::string c = options_.consumer;
        disconnect();
        throw Error::precondition(
            "relay_follow_lost",
            fmt::format("the cursor of consumer \"{}\" for {} reads database {} since the "
                        "owner's split cutover, but that cutover is gone (was the split "
                        "rolled back?)",
                        c, o.name, cursor->database),
            "the projections may hold writes made in that database: rebuild them with "
            "`dbsplit rollback projections` then `dbsplit run projections`");
      }
      o.followed = true;
    }
    o.sequence =
        reader(o).scalar("SELECT pg_get_serial_sequence($1, 'seq')", o.table.quoted()).value_or("");
  }
  std::string snapshot = sourceSnapshot().str();
  if (options_.journal) {
    options_.journal->addSnapshot(
        "relay_start",
        nlohmann::json{{"consumer", options_.consumer}, {"snapshot", snapshot}}.dump());
  }
  out_.event({{"event", "relay_start"}, {"consumer", options_.consumer}, {"snapshot", snapshot}},
             fmt::format("relay of consumer {} started at source snapshot {}", options_.consumer,
                         snapshot));
}

Snapshot Relay::sourceSnapshot() {
  return parseSnapshot(*source_->scalar("SELECT pg_current_snapshot()::text"));
}

Relay::Moment Relay::moment() {
  Moment m;
  for (auto& o : outboxes_) {
    checkCutover(o, false);
    pg::Session& s = o.cut ? *o.moved : *source_;
    m[o.name] = {parseSnapshot(*s.scalar("SELECT pg_current_snapshot()::text")), o.cut.has_value()};
  }
  return m;
}

namespace {

// Whether `c` is past `t` by `past` (each against its own server's snapshot).
template <typename Past>
bool cursorPast(const std::optional<Cursor>& c, const Relay::Position& t, Past past) {
  if (!c) return false;
  bool followed = !c->database.empty();
  if (t.moved && !followed) return false;  // it has to drain the source and follow first
  if (!t.moved && followed) return true;   // it drained the source before it followed
  return past(parseSnapshot(c->snapshot), t.snapshot);
}

}  // namespace

bool Relay::caughtUpPast(const Moment& t) {
  for (auto& o : outboxes_) {
    auto it = t.find(o.name);
    if (it == t.end()) continue;
    if (!cursorPast(readCursor(*target_, options_.consumer, o.name), it->second,
                    [](const Snapshot& c, const Snapshot& s) { return c.xmin >= s.xmax; })) {
      return false;
    }
  }
  return true;
}

bool Relay::covers(const Moment& t) {
  for (auto& o : outboxes_) {
    auto it = t.find(o.name);
    if (it == t.end()) continue;
    if (!cursorPast(readCursor(*target_, options_.consumer, o.name), it->second,
                    [](const Snapshot& c, const Snapshot& s) { return relay::covers(c, s); })) {
      return false;
    }
  }
  return true;
}

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
  if (!cut.done) return;
  if (!cut.positioned) {
    // A split made by an older dbsplit recorded no position: the relay cannot
    // tell which of the new database's events it has, so it does not follow.
    if (!o.warned) {
      o.warned = true;
      out_.event(
          {{"event", "relay_outbox_moved"},
           {"consumer", options_.consumer},
           {"outbox", o.name},
           {"database", pg::redactDsn(o.owner_dsn)}},
          fmt::format("warning: {} moved to its owner's database {} (split, database mode) "
                      "without a recorded cutover position ({}.dbsplit_cutover): this "
                      "relay does not follow it; consumer {} gets no event of {} written "
                      "after the cutover (docs/steps/split.md)",
                      o.name, pg::redactDsn(o.owner_dsn), o.owner, options_.consumer, o.name));
    }
    return;
  }
  o.cut = cut;
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
    TargetTx tx(*target_);
    // A cursor table made by an older dbsplit gets the column in place.
    if (!target_->scalar("SELECT 1 FROM pg_catalog.pg_attribute WHERE attrelid = $1::regclass"
                         " AND attname = 'outbox_database' AND NOT attisdropped",
                         table.quoted())) {
      target_->exec("ALTER TABLE " + table.quoted() + " ADD COLUMN outbox_database text");
    }
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

std::int64_t Relay::poll() {
  std::int64_t n = 0;
  for (auto& o : outboxes_) {
    if (options_.stop && options_.stop()) break;
    n += pollOutbox(o);
  }
  return n;
}

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
  // transactions ordered by their last seq.
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
      TargetTx tx(*target_);
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
  TargetTx tx(*target_);
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
    TargetTx tx(*target_);
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

std::vector<OutboxLag> relayLag(const plan::Plan& plan, const std::string& main_dsn,
                                util::Reporter& out) {
  std::vector<OutboxLag> lags;
  pg::ConnectOptions o;
  o.dsn = main_dsn;
  o.application_name = "dbsplit/" + plan.migration.name + "/status";
  o.read_only = true;
  std::unique_ptr<pg::Session> source;
  for (const std::string& consumer : consumers(plan)) {
    const plan::Service* s = plan.findService(consumer);
    std::string target_dsn = s && !s->database.empty() ? serviceDsn(main_dsn, s->database) : "";
    try {
      if (!source) source = pg::Session::connect(o);
      std::unique_ptr<pg::Session> own;
      pg::Session* target = source.get();
      if (!target_dsn.empty()) {
        pg::ConnectOptions t = o;
        t.dsn = target_dsn;
        own = pg::Session::connect(t);
        target = own.get();
      }
      std::vector<std::string> outboxes;
      for (const auto& p : plan.projections) {
        const plan::Table* table = plan.findTable(p.source);
        if (p.consumer != consumer || !table) continue;
        std::string name = table->owner + ".outbox";
        if (std::find(outboxes.begin(), outboxes.end(), name) == outboxes.end()) {
          outboxes.push_back(name);
        }
      }
      for (const std::string& name : outboxes) {
        OutboxLag lag;
        lag.consumer = consumer;
        lag.outbox = name;
        auto c = readCursor(*target, consumer, name);
        if (c) {
          lag.started = true;
          lag.applied = c->applied;
          lag.snapshot = c->snapshot;
          const std::string owner = name.substr(0, name.size() - 7);
          plan::QualifiedName table = plan::outboxOf(owner);
          // The outbox where it is now: a cursor that follows it into its
          // owner's database counts there; one still draining the source
          // counts the source's rest plus what was written there since the
          // cutover.
          std::unique_ptr<pg::Session> there;
          OutboxCutover cut;
          if (std::string dsn = ownerDsn(plan, main_dsn, owner);
              !dsn.empty() && (!c->database.empty() || databaseMayExist(*source, main_dsn, dsn))) {
            pg::ConnectOptions t = o;
            t.dsn = dsn;
            t.connect_timeout_s = 5;
            try {
              there = pg::Session::connect(t);
              cut = readCutover(*there, *source, owner);
            } catch (const Error&) {
              if (!c->database.empty()) throw;
              there.reset();  // not created (yet)
            }
          }
          const std::string count =
              "SELECT count(*), coalesce(extract(epoch FROM now() - min(created_at)), 0)"
              "  FROM " +
              table.quoted() +
              " WHERE seq >= $1 AND NOT pg_visible_in_snapshot(txid, $2::pg_snapshot)";
          auto add = [&lag, &count](pg::Session& s, std::int64_t seq, const std::string& snap) {
            pqxx::result r = s.execParams(count, seq, snap);
            lag.events += r[0][0].as<std::int64_t>();
            lag.seconds = std::max(lag.seconds, r[0][1].as<double>());
          };
          if (!c->database.empty()) {
            if (!there) throw Error::stepFailed("relay_lag", "the owner's database is not set");
            add(*there, c->seq, c->snapshot);
          } else {
            if (source->scalar("SELECT to_regclass($1)::text", table.quoted())) {
              add(*source, c->seq, c->snapshot);
            }
            if (cut.done && cut.positioned) add(*there, cut.seq + 1, cut.snapshot);
          }
        }
        lags.push_back(lag);
      }
    } catch (const Error& e) {
      out.warn(fmt::format("relay lag of consumer {}: {}", consumer, e.what()));
    }
  }
  return lags;
}

}  // namespace dbsplit::relay
