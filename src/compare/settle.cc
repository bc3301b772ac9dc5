// Waiting for the relay (see settle.h).
#include "compare/settle.h"

#include <thread>

#include "fmt/format.h"
#include "nlohmann/json.hpp"
#include "plan/qualified_name.h"

namespace dbsplit::compare {
namespace {

// A relay that does not hold its lock this long is taken as not running
// (a relay restarting takes its lock again well within it).
constexpr std::chrono::seconds kNoRelayGrace{3};

bool parseXid(const std::string& text, size_t from, size_t to, std::uint64_t* out) {
  if (from >= to) return false;
  std::uint64_t v = 0;
  for (size_t i = from; i < to; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    v = v * 10 + static_cast<std::uint64_t>(text[i] - '0');
  }
  *out = v;
  return true;
}

}  // namespace

std::optional<Snapshot> parseSnapshot(const std::string& text) {
  size_t a = text.find(':');
  if (a == std::string::npos) return std::nullopt;
  size_t b = text.find(':', a + 1);
  if (b == std::string::npos) return std::nullopt;
  Snapshot s;
  if (!parseXid(text, 0, a, &s.xmin) || !parseXid(text, a + 1, b, &s.xmax)) return std::nullopt;
  return s;
}

RelayWatch::RelayWatch(pg::Session& source, pg::Session& consumer_db, std::string migration,
                       std::string consumer, std::vector<std::string> outboxes,
                       std::map<std::string, std::string> owner_dsns)
    : source_(source),
      consumer_db_(consumer_db),
      migration_(std::move(migration)),
      consumer_(std::move(consumer)),
      outboxes_(std::move(outboxes)),
      owner_dsns_(std::move(owner_dsns)) {}

std::string RelayWatch::sourceSnapshot() {
  std::string moment = *source_.scalar("SELECT pg_current_snapshot()::text");
  owner_moments_.clear();
  for (const auto& [outbox, dsn] : owner_dsns_) {
    auto& db = owner_dbs_[outbox];
    try {
      if (!db || !db->isOpen()) {
        db = pg::Session::connect({dsn, "dbsplit/" + migration_ + "/compare", true, 5});
      }
      if (auto s = parseSnapshot(*db->scalar("SELECT pg_current_snapshot()::text"))) {
        owner_moments_[outbox] = *s;
      }
    } catch (const Error&) {
      db.reset();  // not created (yet): the outbox is read on the source
    }
  }
  return moment;
}

std::optional<std::vector<RelayWatch::CursorAt>> RelayWatch::cursors(std::string* why) {
  plan::QualifiedName table{consumer_, "dbsplit_cursor"};
  if (!consumer_db_.scalar("SELECT to_regclass($1)::text", table.quoted())) {
    *why = fmt::format("consumer \"{}\" has no relay cursor table {}: the relay has not run",
                       consumer_, table.display());
    return std::nullopt;
  }
  pg::Result r = consumer_db_.execParams(
      "SELECT outbox, snapshot::text, to_jsonb(c) ->> 'outbox_database' IS NOT NULL FROM " +
          table.quoted() + " AS c WHERE outbox IN (SELECT jsonb_array_elements_text($1::jsonb))",
      nlohmann::json(outboxes_).dump());
  std::vector<CursorAt> out;
  for (const std::string& outbox : outboxes_) {
    bool found = false;
    for (const auto& row : r) {
      if (outbox != row[0].c_str()) continue;
      auto s = parseSnapshot(row[1].c_str());
      if (!s) {
        *why = fmt::format("cursor of {} in {} holds no snapshot", outbox, table.display());
        return std::nullopt;
      }
      out.push_back({*s, std::string(row[2].c_str()) == "t"});
      found = true;
    }
    if (!found) {
      *why = fmt::format("consumer \"{}\" has no relay cursor for {} in {}: the relay has not run",
                         consumer_, outbox, table.display());
      return std::nullopt;
    }
  }
  return out;
}

bool RelayWatch::relayLockHeld() {
  // The relay's lock (DESIGN contract): hashtext('dbsplit/relay/<migration>/<consumer>')
  // as a bigint advisory key, which pg_locks shows split into classid (high
  // half) and objid (low half).
  return source_.scalar(
             "SELECT EXISTS (\n"
             "  SELECT 1 FROM pg_locks\n"
             "   WHERE locktype = 'advisory' AND granted AND objsubid = 1\n"
             "     AND database = (SELECT oid FROM pg_database WHERE datname = "
             "current_database())\n"
             "     AND ((classid::int8 << 32) | objid::int8) = hashtext($1)::int8)::text",
             "dbsplit/relay/" + migration_ + "/" + consumer_) == std::string("true");
}

RelayState RelayWatch::waitPast(const std::string& moment,
                                std::chrono::steady_clock::time_point deadline, std::string* why) {
  auto target = parseSnapshot(moment);
  if (!target) throw Error::stepFailed("bad_snapshot", "not a pg_snapshot: " + moment);
  auto pause = std::chrono::milliseconds(50);
  std::optional<std::chrono::steady_clock::time_point> unlocked_since;
  for (;;) {
    auto snaps = cursors(why);
    if (!snaps) return RelayState::kNotRunning;
    bool past = true;
    for (size_t i = 0; i < snaps->size(); ++i) {
      const CursorAt& c = (*snaps)[i];
      // A cursor that follows its outbox into the owner's database drained
      // the source first: it is past the moment there.
      auto owner = owner_moments_.find(outboxes_[i]);
      const Snapshot& t = c.followed && owner != owner_moments_.end() ? owner->second : *target;
      past = past && c.snapshot.xmin >= t.xmax;
    }
    if (past) return RelayState::kCaughtUp;
    auto now = std::chrono::steady_clock::now();
    if (relayLockHeld()) {
      unlocked_since.reset();
    } else {
      if (!unlocked_since) unlocked_since = now;
      if (now - *unlocked_since >= kNoRelayGrace) {
        *why = fmt::format(
            "the relay of consumer \"{}\" is behind and not running (no process holds its lock)",
            consumer_);
        return RelayState::kNotRunning;
      }
    }
    if (now >= deadline) {
      *why = fmt::format("the relay of consumer \"{}\" did not catch up within the settle timeout",
                         consumer_);
      return RelayState::kTimeout;
    }
    std::this_thread::sleep_for(
        std::min<std::chrono::steady_clock::duration>(pause, deadline - now));
    pause = std::min(pause * 2, std::chrono::milliseconds(500));
  }
}

}  // namespace dbsplit::compare
