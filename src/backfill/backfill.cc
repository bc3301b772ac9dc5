// Snapshot backfill over COPY between two sessions (see backfill.h).
#include "backfill/backfill.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <thread>

#include "fmt/format.h"
#include "nlohmann/json.hpp"
#include "pg/session.h"
#include "pg/transaction.h"
#include "relay/cursor.h"
#include "relay/snapshot.h"
#include "sql/quote.h"
#include "sql/template.h"
#include "util/text.h"

namespace dbsplit::backfill {
namespace {

using relay::BackfillState;
using relay::backfillTable;
using relay::cursorTable;
using relay::parseSnapshot;
using relay::ProjectionSpec;
using relay::readBackfill;
using relay::Snapshot;

const char* const kResumeHint = "run it again: the backfill resumes after the last committed range";

std::unique_ptr<pg::Session> connect(const std::string& dsn, const std::string& application) {
  pg::ConnectOptions c;
  c.dsn = dsn;
  c.application_name = application;
  return pg::Session::connect(c);
}

std::string keyTuple(const ProjectionSpec& p) { return "(" + sql::quoteIdentList(p.key) + ")"; }

// ('v1'::type1, 'v2'::type2) from a JSON array of the key's text values.
std::string keyLiteral(const ProjectionSpec& p, const std::string& json_values) {
  auto values = nlohmann::json::parse(json_values).get<std::vector<std::string>>();
  std::string out = "(";
  for (size_t i = 0; i < p.key.size(); ++i) {
    out += (i ? ", " : "") + sql::quoteLiteral(values.at(i)) + "::" + p.column(p.key[i]).type;
  }
  return out + ")";
}

std::string rangeCondition(const ProjectionSpec& p, const std::string& lower,
                           const std::string& upper) {
  std::vector<std::string> parts;
  if (!lower.empty()) parts.push_back(keyTuple(p) + " > " + keyLiteral(p, lower));
  if (!upper.empty()) parts.push_back(keyTuple(p) + " <= " + keyLiteral(p, upper));
  return parts.empty() ? "true" : util::join(parts, "\n   AND ");
}

// The key's text forms, aliased: an output column named like the key would
// make ORDER BY sort the text, not the key.
std::string keyTextList(const ProjectionSpec& p) {
  std::vector<std::string> parts;
  for (size_t i = 0; i < p.key.size(); ++i) {
    parts.push_back(sql::quoteIdent(p.key[i]) + "::text AS dbsplit_k" + std::to_string(i));
  }
  return util::join(parts, ", ");
}

// The key columns qualified by the table: ORDER BY then never means an output column.
std::string qualifiedKey(const ProjectionSpec& p) {
  std::vector<std::string> parts;
  for (const auto& k : p.key) parts.push_back(p.location.quoted() + "." + sql::quoteIdent(k));
  return util::join(parts, ", ");
}

std::string columnList(const ProjectionSpec& p) {
  std::vector<std::string> names;
  for (const auto& c : p.columns) names.push_back(c.name);
  return sql::quoteIdentList(names);
}

// Whether the projection has its primary key.
bool hasKey(pg::Session& target, const ProjectionSpec& p) {
  return target
      .exec(fmt::format("SELECT EXISTS (SELECT FROM pg_constraint WHERE conrelid = {}::regclass"
                        " AND contype = 'p')",
                        sql::quoteLiteral(p.target.quoted())))[0][0]
      .as<bool>();
}

// Whether a fresh copy may run without the primary key: the table is empty,
// its key has the name the step gives it (so the same one can be added back)
// and no foreign key references it (dropping it would need CASCADE).
bool mayDropKey(pg::Session& target, const ProjectionSpec& p) {
  const std::string table = sql::quoteLiteral(p.target.quoted());
  return target
      .exec(fmt::format(
          "SELECT EXISTS (SELECT FROM pg_constraint WHERE conrelid = {0}::regclass\n"
          "                  AND contype = 'p' AND conname = {1})\n"
          "   AND NOT EXISTS (SELECT FROM pg_constraint WHERE confrelid = {0}::regclass)\n"
          "   AND NOT EXISTS (SELECT FROM {2})",
          table, sql::quoteLiteral(p.primaryKeyName()), p.target.quoted()))[0][0]
      .as<bool>();
}

BackfillResult copyRanges(const ProjectionSpec& p, const BackfillOptions& options,
                          util::Reporter& out) {
  BackfillResult result;
  const std::string app = "dbsplit/" + options.migration + "/projections";
  const bool same_db = p.target_dsn.empty();
  std::unique_ptr<pg::Session> target_session =
      connect(same_db ? options.main_dsn : p.target_dsn, app);
  std::unique_ptr<pg::Session> source_session = connect(options.main_dsn, app);
  pg::Session& target = *target_session;
  pg::Session& source = *source_session;
  target.exec(fmt::format("SET lock_timeout = {}", options.lock_timeout_ms));
  const std::string state_table = backfillTable(p.consumer).quoted();
  const std::string id = sql::quoteLiteral(p.id());
  pg::Result state = target.exec(
      "SELECT snapshot::text, seq, coalesce(last_key::text, ''), complete, "
      "rows_copied, range_no FROM " +
      state_table + " WHERE projection = " + id + " ORDER BY range_no DESC LIMIT 1");
  if (!state.empty() && state[0][3].as<bool>()) {
    result.already_complete = true;
    return result;
  }
  result.resumed = !state.empty();
  std::string last_key = state.empty() ? "" : state[0][2].as<std::string>();
  std::int64_t done = state.empty() ? 0 : state[0][4].as<std::int64_t>();
  int range_no = state.empty() ? 0 : state[0][5].as<int>() + 1;
  // A resumed copy finds the key already dropped by its first range.
  bool drop_key = state.empty() && mayDropKey(target, p);
  bool add_key = drop_key || (!state.empty() && !hasKey(target, p));
  const std::string key_name = sql::quoteIdent(p.primaryKeyName());

  // The low watermark: the sequence's position L, then a txid N assigned
  // after it was read; once every transaction below N has ended (xmin >= N),
  // every event with seq <= L is visible to the snapshot exported next (see
  // relay.cc, watermark()).
  std::int64_t wm = state.empty() ? 1 : state[0][1].as<std::int64_t>();
  if (state.empty()) {
    pg::Result seq = source.exec(fmt::format(
        "SELECT coalesce(pg_sequence_last_value(pg_get_serial_sequence({}, 'seq')::regclass), 0)",
        sql::quoteLiteral(p.outbox.quoted())));
    std::int64_t last = seq[0][0].as<std::int64_t>();
    std::uint64_t fresh =
        source.exec("SELECT pg_current_xact_id()::text")[0][0].as<unsigned long long>();
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(options.settle_ms);
    for (;;) {
      Snapshot now =
          parseSnapshot(source.exec("SELECT pg_current_snapshot()::text")[0][0].as<std::string>());
      if (now.xmin >= fresh) {
        wm = last + 1;
        break;
      }
      if (std::chrono::steady_clock::now() > until) break;  // a long transaction: keep wm = 1
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  // The exporting transaction stays open until the copy is done: each range
  // imports its snapshot (same database), or one worker does (another database).
  using Isolation = pg::TransactionOptions::Isolation;
  pg::Transaction exporting(source, {Isolation::kRepeatableRead, false, {}});
  pg::Result exported = source.exec("SELECT pg_export_snapshot(), pg_current_snapshot()::text");
  pg::TransactionOptions import;
  import.isolation = Isolation::kRepeatableRead;
  import.snapshot = exported[0][0].as<std::string>();
  // The relay starts at the first range's snapshot (see backfill.h).
  const std::string first_snapshot =
      state.empty() ? exported[0][1].as<std::string>() : state[0][0].as<std::string>();
  std::unique_ptr<pg::Session> worker;
  std::unique_ptr<pg::Transaction> worker_tx;
  if (!same_db) {
    worker = connect(options.main_dsn, app);
    pg::TransactionOptions read_only = import;
    read_only.read_only = true;
    worker_tx = std::make_unique<pg::Transaction>(*worker, read_only);
  }
  pg::Session& reader = same_db ? target : *worker;

  pg::Result estimate = source.exec(
      fmt::format("SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = {}::regclass",
                  sql::quoteLiteral(p.location.quoted())));
  // A resumed backfill counts (and rates) only what it copies itself.
  std::int64_t total = std::max<std::int64_t>(estimate[0][0].as<std::int64_t>() - done, 0);
  auto progress = out.progress(
      "backfill " + p.id() + (done ? fmt::format(" (resumed after {} rows)", done) : ""), total,
      "rows");
  const std::string cols = columnList(p);
  for (;; ++range_no) {
    // Same database: the range reads and writes in one transaction under the
    // exported snapshot. Another database: the worker reads under it.
    pg::Transaction range_tx(target, same_db ? import : pg::TransactionOptions{});
    pg::Result upper_row = reader.exec(
        fmt::format("SELECT {} FROM {}\n WHERE {}\n ORDER BY {}\n OFFSET {} LIMIT 1",
                    keyTextList(p), p.location.quoted(), rangeCondition(p, last_key, ""),
                    qualifiedKey(p), options.chunk_rows - 1));
    std::string upper;
    if (!upper_row.empty()) {
      nlohmann::json values = nlohmann::json::array();
      for (size_t i = 0; i < upper_row[0].size(); ++i) {
        values.push_back(upper_row[0][i].as<std::string>());
      }
      upper = values.dump();
    }
    const std::string range = rangeCondition(p, last_key, upper);
    std::int64_t n = 0;
    if (drop_key) {
      target.exec(fmt::format("ALTER TABLE {} DROP CONSTRAINT {}", p.target.quoted(), key_name));
      drop_key = false;
    }
    if (same_db) {
      // One statement on the server, under the exported snapshot.
      n = target
              .exec(fmt::format("INSERT INTO {} ({})\nSELECT {} FROM {}\n WHERE {}",
                                p.target.quoted(), cols, cols, p.location.quoted(), range))
              .affected_rows();
    } else {
      // No ORDER BY: the range commits as a whole, so its order does not
      // matter and the server may scan it the cheapest way.
      n = worker->copyInto(
          fmt::format("SELECT {} FROM {}\n WHERE {}", cols, p.location.quoted(), range), target,
          p.target.quoted(), cols);
    }
    done += n;
    if (upper.empty() && add_key) {
      target.exec(fmt::format("ALTER TABLE {} ADD CONSTRAINT {} PRIMARY KEY ({})",
                              p.target.quoted(), key_name, sql::quoteIdentList(p.key)));
    }
    const std::string key_after = upper.empty() ? last_key : upper;
    target.exec(fmt::format(
        "INSERT INTO {} (projection, range_no, snapshot, seq, last_key, rows_copied, complete)\n"
        "VALUES ({}, {}, {}::pg_snapshot, {}, {}, {}, {})",
        state_table, id, range_no, sql::quoteLiteral(first_snapshot), wm,
        key_after.empty() ? "NULL" : sql::quoteLiteral(key_after) + "::jsonb", done,
        upper.empty() ? "true" : "false"));
    range_tx.commit();
    result.rows += n;
    progress->advance(n);
    if (options.after_range) options.after_range(range_no);
    if (upper.empty()) break;
    last_key = upper;
  }
  if (worker_tx) worker_tx->commit();
  exporting.commit();
  progress->finish();
  return result;
}

}  // namespace

BackfillResult backfill(const ProjectionSpec& p, const BackfillOptions& options,
                        util::Reporter& out) {
  try {
    return copyRanges(p, options, out);
  } catch (const Error& e) {
    // A failed statement or a lost connection: the ranges committed so far
    // stay, and running the action again resumes after them.
    const std::string& kind = e.kind();
    if (kind != "sql_error" && kind != "pg_error" && kind != "connection_lost" &&
        kind != "commit_in_doubt") {
      throw;
    }
    throw Error::stepFailed("backfill_failed", e.what(), kResumeHint, e.sqlstate());
  }
}

int startCursors(const std::vector<ProjectionSpec>& specs, pg::Session& target) {
  std::map<std::string, std::pair<Snapshot, std::int64_t>> start;
  std::map<std::string, std::string> consumer_of;
  for (const ProjectionSpec& p : specs) {
    auto b = readBackfill(target, p.consumer, p.id());
    if (!b || !b->complete) {
      throw Error::stepFailed("backfill_incomplete",
                              fmt::format("projection {} is not backfilled yet", p.id()),
                              "dbsplit resume (the backfill action runs first)");
    }
    Snapshot s = parseSnapshot(b->snapshot);
    auto [it, inserted] = start.emplace(p.outbox.display(), std::make_pair(s, b->seq));
    if (!inserted) {
      it->second.first = intersect(it->second.first, s);
      it->second.second = std::min(it->second.second, b->seq);
    }
    consumer_of[p.outbox.display()] = p.consumer;
  }
  int created = 0;
  for (const auto& [outbox, pos] : start) {
    auto r = target.execParams("INSERT INTO " + cursorTable(consumer_of[outbox]).quoted() +
                                   " (outbox, seq, snapshot) VALUES ($1, $2, $3::pg_snapshot)"
                                   " ON CONFLICT (outbox) DO NOTHING",
                               outbox, pos.second, pos.first.str());
    created += static_cast<int>(r.affected_rows());
  }
  return created;
}

}  // namespace dbsplit::backfill
