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

struct TxGroup {
  std::uint64_t txid = 0;
  std::int64_t events = 0;
  std::int64_t min_seq = 0;
  std::int64_t max_seq = 0;
};

}  // namespace

Relay::Relay(std::vector<ProjectionSpec> specs, RelayOptions options, util::Reporter& out)
    : specs_(std::move(specs)), options_(std::move(options)), out_(out) {
  for (const ProjectionSpec& p : specs_) {
    auto it = std::find_if(outboxes_.begin(), outboxes_.end(),
                           [&](const OutboxState& o) { return o.name == p.outbox.display(); });
    if (it == outboxes_.end()) {
      outboxes_.push_back({p.outbox.display(), p.outbox, "", {}, {}, {}, {}, p.outbox_dsn});
      it = outboxes_.end() - 1;
    }
    it->projections.push_back(&p);
  }
}

Relay::~Relay() = default;

bool Relay::connected() const {
  return source_ && target_ && source_->isOpen() && target_->isOpen();
}

void Relay::disconnect() {
  source_.reset();
  target_.reset();
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
    if (!readCursor(*target_, options_.consumer, o.name)) {
      std::string c = options_.consumer;
      disconnect();
      throw Error::precondition(
          "relay_not_started",
          fmt::format("consumer \"{}\" has no relay cursor for {} yet", c, o.name),
          "dbsplit run projections (it backfills the projections and starts the relay)");
    }
    if (!o.dsn.empty()) {
      // Not followed yet: cursor snapshots are cluster-wide while the outbox
      // is per database, so a relay that read the source past the cutover
      // has already claimed the new database's transactions
      // (docs/steps/split.md, "Consumers after the cutover").
      out_.event({{"event", "relay_outbox_moved"},
                  {"consumer", options_.consumer},
                  {"outbox", o.name},
                  {"database", pg::redactDsn(o.dsn)}},
                 fmt::format("warning: {} moved to its owner's database {} (split, database mode "
                             "cut it over): the owner's events are written there now and this "
                             "relay does not follow them; consumer {} gets no event of {} written "
                             "after the cutover (docs/steps/split.md)",
                             o.name, pg::redactDsn(o.dsn), options_.consumer, o.name));
    }
    o.sequence =
        source_->scalar("SELECT pg_get_serial_sequence($1, 'seq')", o.table.quoted()).value_or("");
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

bool Relay::caughtUpPast(const Snapshot& t) {
  for (auto& o : outboxes_) {
    auto c = readCursor(*target_, options_.consumer, o.name);
    if (!c || parseSnapshot(c->snapshot).xmin < t.xmax) return false;
  }
  return true;
}

bool Relay::covers(const Snapshot& t) {
  for (auto& o : outboxes_) {
    auto c = readCursor(*target_, options_.consumer, o.name);
    if (!c || !relay::covers(parseSnapshot(c->snapshot), t)) return false;
  }
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
        source_->scalar("SELECT coalesce(pg_sequence_last_value($1::regclass), 0)", o.sequence)
            .value_or("0"));
    std::uint64_t fresh = std::stoull(*source_->scalar("SELECT pg_current_xact_id()::text"));
    o.history.push_back({fresh, last});
  }
  const Snapshot cur = sourceSnapshot();
  const Snapshot prev = parseSnapshot(cursor->snapshot);

  // The batch (PgQ): events of transactions that ended by `cur` and had not
  // by `prev`. Grouped per transaction to cut it into chunks of whole
  // transactions ordered by their last seq.
  std::vector<TxGroup> groups;
  for (const auto& row : source_->execParams(
           "SELECT txid::text, count(*), min(seq), max(seq) FROM " + o.table.quoted() +
               "\n WHERE seq >= $1"
               "\n   AND pg_visible_in_snapshot(txid, $2::pg_snapshot)"
               "\n   AND NOT pg_visible_in_snapshot(txid, $3::pg_snapshot)"
               "\n GROUP BY txid",
           cursor->seq, cur.str(), prev.str())) {
    groups.push_back({std::stoull(row[0].c_str()), row[1].as<std::int64_t>(),
                      row[2].as<std::int64_t>(), row[3].as<std::int64_t>()});
  }
  std::sort(groups.begin(), groups.end(),
            [](const TxGroup& a, const TxGroup& b) { return a.max_seq < b.max_seq; });

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
      if (r.affected_rows() != 1) {
        throw Error::stepFailed(
            "relay_cursor_moved",
            fmt::format("the cursor of {} for {} moved under the relay", options_.consumer, o.name),
            "is another relay writing to it without the relay lock?");
      }
      tx.commit();
    }
    return 0;
  }

  // Transactions not applied yet, by txid: a chunk's snapshot must keep those
  // below its xmax invisible.
  std::set<std::uint64_t> pending;
  for (const TxGroup& g : groups) pending.insert(g.txid);
  std::vector<Chunk> chunks;
  Snapshot from = prev;
  for (size_t i = 0; i < groups.size();) {
    size_t j = i;
    std::int64_t n = 0;
    // The chunk's events are those of its transactions (seq >= the cursor's):
    // the smallest of their seqs bounds the chunk's index scan from below, so
    // a batch of many chunks is read once, not once per chunk from the cursor.
    std::int64_t lower = groups[i].min_seq;
    while (j < groups.size() && (n == 0 || n + groups[j].events <= options_.batch)) {
      n += groups[j].events;
      lower = std::min(lower, groups[j].min_seq);
      pending.erase(groups[j].txid);
      ++j;
    }
    Snapshot to = cur;
    if (j < groups.size()) {
      std::vector<std::uint64_t> extra;
      std::uint64_t xmax = from.xmax;
      for (size_t k = i; k < j; ++k) {
        extra.push_back(groups[k].txid);
        xmax = std::max(xmax, groups[k].txid + 1);
      }
      std::vector<std::uint64_t> invisible;
      for (std::uint64_t t : cur.xip) {
        if (t < xmax) invisible.push_back(t);
      }
      for (auto it = pending.begin(); it != pending.end() && *it < xmax; ++it) {
        invisible.push_back(*it);
      }
      std::sort(invisible.begin(), invisible.end());
      to = extend(from, extra, invisible);
    }
    chunks.push_back({from, to, lower, groups[j - 1].max_seq, n});
    from = to;
    i = j;
  }

  std::int64_t applied = 0;
  if (specs_.front().target_dsn.empty() && options_.skip_events.empty()) {
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
  for (const auto& row : source_->execParams(
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
  if (r.affected_rows() != 1) {
    throw Error::stepFailed(
        "relay_cursor_moved",
        fmt::format("the cursor of {} for {} moved under the relay", options_.consumer, o.name),
        "is another relay writing to it without the relay lock?");
  }
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
          plan::QualifiedName table{name.substr(0, name.size() - 7), "outbox"};
          auto r = source->execParams(
              "SELECT count(*), coalesce(extract(epoch FROM now() - min(created_at)), 0)"
              "  FROM " +
                  table.quoted() +
                  " WHERE seq >= $1 AND NOT pg_visible_in_snapshot(txid, $2::pg_snapshot)",
              c->seq, c->snapshot);
          lag.events = r[0][0].as<std::int64_t>();
          lag.seconds = r[0][1].as<double>();
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
