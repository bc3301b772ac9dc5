#include "relay/cursor.h"

namespace dbsplit::relay {

plan::QualifiedName cursorTable(const std::string& consumer) {
  return {consumer, "dbsplit_cursor"};
}

plan::QualifiedName backfillTable(const std::string& consumer) {
  return {consumer, "dbsplit_backfill"};
}

std::optional<Cursor> readCursor(pg::Session& target, const std::string& consumer,
                                 const std::string& outbox) {
  plan::QualifiedName t = cursorTable(consumer);
  if (!target.scalar("SELECT to_regclass($1)", t.quoted())) return std::nullopt;
  auto r =
      target.execParams("SELECT seq, snapshot::text, applied, coalesce(outbox_database, '') FROM " +
                            t.quoted() + " WHERE outbox = $1",
                        outbox);
  if (r.empty()) return std::nullopt;
  Cursor c;
  c.seq = r[0][0].as<std::int64_t>();
  c.snapshot = r[0][1].c_str();
  c.applied = r[0][2].as<std::int64_t>();
  c.database = r[0][3].c_str();
  return c;
}

std::optional<std::int64_t> readLowWatermark(pg::Session& target, const std::string& consumer,
                                             const std::string& outbox) {
  plan::QualifiedName t = cursorTable(consumer);
  if (!target.scalar("SELECT to_regclass($1)", t.quoted())) return std::nullopt;
  auto seq = target.scalar("SELECT seq FROM " + t.quoted() + " WHERE outbox = $1", outbox);
  if (!seq) return std::nullopt;
  return std::stoll(*seq);
}

std::optional<BackfillState> readBackfill(pg::Session& target, const std::string& consumer,
                                          const std::string& projection) {
  plan::QualifiedName t = backfillTable(consumer);
  if (!target.scalar("SELECT to_regclass($1)", t.quoted())) return std::nullopt;
  auto r = target.execParams(
      "SELECT snapshot::text, seq, coalesce(last_key::text, ''), rows_copied, complete, range_no"
      "  FROM " +
          t.quoted() + " WHERE projection = $1 ORDER BY range_no DESC LIMIT 1",
      projection);
  if (r.empty()) return std::nullopt;
  BackfillState b;
  b.snapshot = r[0][0].c_str();
  b.seq = r[0][1].as<std::int64_t>();
  b.last_key = r[0][2].c_str();
  b.rows = r[0][3].as<std::int64_t>();
  b.complete = std::string(r[0][4].c_str()) == "t";
  b.range_no = r[0][5].as<int>();
  return b;
}

std::string relayLockText(const std::string& migration, const std::string& consumer) {
  return "dbsplit/relay/" + migration + "/" + consumer;
}

}  // namespace dbsplit::relay
