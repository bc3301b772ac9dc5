// The relay's lifecycle and positions (see relay.h): connecting and taking
// the relay lock, the moments `--once` and the step wait for, and one poll
// over every outbox. Batching is in batch.cc, following a cutover in
// follow.cc, lag reporting in lag.cc.
#include "relay/relay.h"

#include <algorithm>
#include <map>

#include "fmt/format.h"
#include "pg/conninfo.h"
#include "relay/cursor.h"
#include "relay/internal.h"

namespace dbsplit::relay {

// Every cursor update is guarded by the snapshot the relay read it at: one
// that touches no row means someone else moved the cursor meanwhile.
void requireCursorUpdated(const pg::Result& r, const std::string& consumer,
                          const std::string& outbox) {
  if (r.affected_rows() == 1) return;
  throw Error::stepFailed(
      "relay_cursor_moved",
      fmt::format("the cursor of {} for {} moved under the relay", consumer, outbox),
      "is another relay writing to it without the relay lock?");
}

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

std::int64_t Relay::poll() {
  std::int64_t n = 0;
  for (auto& o : outboxes_) {
    if (options_.stop && options_.stop()) break;
    n += pollOutbox(o);
  }
  return n;
}

}  // namespace dbsplit::relay
