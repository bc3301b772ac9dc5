// Snapshot backfill over the libpq COPY protocol (see backfill.h).
#include "backfill/backfill.h"

#include <libpq-fe.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <thread>

#include "fmt/format.h"
#include "nlohmann/json.hpp"
#include "pg/conninfo.h"
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

// A raw libpq connection: the COPY sub-protocol is not reachable through
// pg::Session (libpqxx), and streaming one COPY into another needs it.
class RawConn {
 public:
  RawConn(const std::string& dsn, const std::string& application) {
    std::string conninfo = pg::buildConninfo(
        dsn, {{"application_name", application},
              {"options", "-c standard_conforming_strings=on -c client_min_messages=warning"}});
    conn_ = PQconnectdb(conninfo.c_str());
    if (PQstatus(conn_) != CONNECTION_OK) {
      std::string why = util::redactSecrets(PQerrorMessage(conn_));
      PQfinish(conn_);
      conn_ = nullptr;
      throw Error(ExitCode::kPrecondition, "connection_failed",
                  fmt::format("cannot connect to {}: {}", pg::redactDsn(dsn), why),
                  "check the DSN and that the server accepts connections");
    }
  }
  ~RawConn() {
    if (conn_) PQfinish(conn_);
  }
  RawConn(const RawConn&) = delete;
  RawConn& operator=(const RawConn&) = delete;

  PGconn* get() { return conn_; }

  // Runs `sql`; returns the rows as text (empty for commands).
  std::vector<std::vector<std::string>> exec(const std::string& sql) {
    PGresult* r = PQexec(conn_, sql.c_str());
    check(r, sql, PGRES_COMMAND_OK, PGRES_TUPLES_OK);
    std::vector<std::vector<std::string>> rows;
    for (int i = 0; i < PQntuples(r); ++i) {
      auto& row = rows.emplace_back();
      for (int j = 0; j < PQnfields(r); ++j) row.push_back(PQgetvalue(r, i, j));
    }
    PQclear(r);
    return rows;
  }

  // Runs a command; returns the rows it affected.
  std::int64_t execCount(const std::string& sql) {
    PGresult* r = PQexec(conn_, sql.c_str());
    check(r, sql, PGRES_COMMAND_OK, PGRES_COMMAND_OK);
    std::string n = PQcmdTuples(r);
    PQclear(r);
    return n.empty() ? 0 : std::stoll(n);
  }

  void startCopy(const std::string& sql, ExecStatusType expected) {
    PGresult* r = PQexec(conn_, sql.c_str());
    check(r, sql, expected, expected);
    PQclear(r);
  }

  // Collects the result of a finished COPY.
  void finishCopy(const std::string& what) {
    PGresult* r;
    while ((r = PQgetResult(conn_)) != nullptr) {
      check(r, what, PGRES_COMMAND_OK, PGRES_COMMAND_OK);
      PQclear(r);
    }
  }

  [[noreturn]] void fail(const std::string& what) {
    throw Error::stepFailed("backfill_failed",
                            fmt::format("{}: {}", what, util::redactSecrets(PQerrorMessage(conn_))),
                            "run it again: the backfill resumes after the last committed range");
  }

 private:
  void check(PGresult* r, const std::string& sql, ExecStatusType a, ExecStatusType b) {
    ExecStatusType st = PQresultStatus(r);
    if (st == a || st == b) return;
    std::string msg = PQresultErrorMessage(r);
    const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    std::string sqlstate = state ? state : "";
    PQclear(r);
    while (!msg.empty() && msg.back() == '\n') msg.pop_back();
    throw Error::stepFailed(
        "backfill_failed",
        fmt::format("{} (while running: {})", util::redactSecrets(msg), sql.substr(0, 200)),
        "run it again: the backfill resumes after the last committed range", sqlstate);
  }

  PGconn* conn_ = nullptr;
};

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

// Streams one COPY ... TO STDOUT into a COPY ... FROM STDIN; returns rows.
std::int64_t pipe(RawConn& from, RawConn& to) {
  std::int64_t rows = 0;
  for (;;) {
    char* buf = nullptr;
    int n = PQgetCopyData(from.get(), &buf, 0);
    if (n == -1) break;
    if (n == -2) from.fail("reading the source rows");
    int ok = PQputCopyData(to.get(), buf, n);
    PQfreemem(buf);
    if (ok != 1) to.fail("writing the projection rows");
    ++rows;
  }
  from.finishCopy("COPY from the source");
  if (PQputCopyEnd(to.get(), nullptr) != 1) to.fail("ending the COPY into the projection");
  to.finishCopy("COPY into the projection");
  return rows;
}

// Whether the projection has its primary key.
bool hasKey(RawConn& target, const ProjectionSpec& p) {
  return target.exec(
             fmt::format("SELECT EXISTS (SELECT FROM pg_constraint WHERE conrelid = {}::regclass"
                         " AND contype = 'p')",
                         sql::quoteLiteral(p.target.quoted())))[0][0] == "t";
}

// Whether a fresh copy may run without the primary key: the table is empty,
// its key has the name the step gives it (so the same one can be added back)
// and no foreign key references it (dropping it would need CASCADE).
bool mayDropKey(RawConn& target, const ProjectionSpec& p) {
  const std::string table = sql::quoteLiteral(p.target.quoted());
  return target.exec(fmt::format(
             "SELECT EXISTS (SELECT FROM pg_constraint WHERE conrelid = {0}::regclass\n"
             "                  AND contype = 'p' AND conname = {1})\n"
             "   AND NOT EXISTS (SELECT FROM pg_constraint WHERE confrelid = {0}::regclass)\n"
             "   AND NOT EXISTS (SELECT FROM {2})",
             table, sql::quoteLiteral(p.primaryKeyName()), p.target.quoted()))[0][0] == "t";
}

}  // namespace

BackfillResult backfill(const ProjectionSpec& p, const BackfillOptions& options,
                        util::Reporter& out) {
  BackfillResult result;
  const std::string app = "dbsplit/" + options.migration + "/projections";
  const bool same_db = p.target_dsn.empty();
  RawConn target(same_db ? options.main_dsn : p.target_dsn, app);
  RawConn source(options.main_dsn, app);
  target.exec(fmt::format("SET lock_timeout = {}", options.lock_timeout_ms));
  const std::string state_table = backfillTable(p.consumer).quoted();
  const std::string id = sql::quoteLiteral(p.id());
  auto state = target.exec(
      "SELECT snapshot::text, seq, coalesce(last_key::text, ''), complete, "
      "rows_copied, range_no FROM " +
      state_table + " WHERE projection = " + id + " ORDER BY range_no DESC LIMIT 1");
  if (!state.empty() && state[0][3] == "t") {
    result.already_complete = true;
    return result;
  }
  result.resumed = !state.empty();
  std::string last_key = state.empty() ? "" : state[0][2];
  std::int64_t done = state.empty() ? 0 : std::stoll(state[0][4]);
  int range_no = state.empty() ? 0 : std::stoi(state[0][5]) + 1;
  // A resumed copy finds the key already dropped by its first range.
  bool drop_key = state.empty() && mayDropKey(target, p);
  bool add_key = drop_key || (!state.empty() && !hasKey(target, p));
  const std::string key_name = sql::quoteIdent(p.primaryKeyName());

  // The low watermark: the sequence's position L, then a txid N assigned
  // after it was read; once every transaction below N has ended (xmin >= N),
  // every event with seq <= L is visible to the snapshot exported next (see
  // relay.cc, watermark()).
  std::int64_t wm = state.empty() ? 1 : std::stoll(state[0][1]);
  if (state.empty()) {
    auto seq = source.exec(fmt::format(
        "SELECT coalesce(pg_sequence_last_value(pg_get_serial_sequence({}, 'seq')::regclass), 0)",
        sql::quoteLiteral(p.outbox.quoted())));
    std::int64_t last = std::stoll(seq[0][0]);
    std::uint64_t fresh = std::stoull(source.exec("SELECT pg_current_xact_id()::text")[0][0]);
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(options.settle_ms);
    for (;;) {
      Snapshot now = parseSnapshot(source.exec("SELECT pg_current_snapshot()::text")[0][0]);
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
  source.exec("BEGIN ISOLATION LEVEL REPEATABLE READ");
  auto exported = source.exec("SELECT pg_export_snapshot(), pg_current_snapshot()::text");
  const std::string import = "SET TRANSACTION SNAPSHOT " + sql::quoteLiteral(exported[0][0]);
  // The relay starts at the first range's snapshot (see backfill.h).
  const std::string first_snapshot = state.empty() ? exported[0][1] : state[0][0];
  std::unique_ptr<RawConn> worker;
  if (!same_db) {
    worker = std::make_unique<RawConn>(options.main_dsn, app);
    worker->exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    worker->exec(import);
  }
  RawConn& reader = same_db ? target : *worker;

  auto estimate = source.exec(
      fmt::format("SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = {}::regclass",
                  sql::quoteLiteral(p.location.quoted())));
  // A resumed backfill counts (and rates) only what it copies itself.
  std::int64_t total = std::max<std::int64_t>(std::stoll(estimate[0][0]) - done, 0);
  auto progress = out.progress(
      "backfill " + p.id() + (done ? fmt::format(" (resumed after {} rows)", done) : ""), total,
      "rows");
  const std::string cols = columnList(p);
  for (;; ++range_no) {
    if (same_db) {
      target.exec("BEGIN ISOLATION LEVEL REPEATABLE READ");
      target.exec(import);
    }
    auto upper_row = reader.exec(
        fmt::format("SELECT {} FROM {}\n WHERE {}\n ORDER BY {}\n OFFSET {} LIMIT 1",
                    keyTextList(p), p.location.quoted(), rangeCondition(p, last_key, ""),
                    qualifiedKey(p), options.chunk_rows - 1));
    std::string upper = upper_row.empty() ? "" : nlohmann::json(upper_row[0]).dump();
    const std::string range = rangeCondition(p, last_key, upper);
    std::int64_t n = 0;
    if (!same_db) target.exec("BEGIN");
    if (drop_key) {
      target.exec(fmt::format("ALTER TABLE {} DROP CONSTRAINT {}", p.target.quoted(), key_name));
      drop_key = false;
    }
    if (same_db) {
      // One statement on the server, under the exported snapshot.
      n = target.execCount(fmt::format("INSERT INTO {} ({})\nSELECT {} FROM {}\n WHERE {}",
                                       p.target.quoted(), cols, cols, p.location.quoted(), range));
    } else {
      // No ORDER BY: the range commits as a whole, so its order does not
      // matter and the server may scan it the cheapest way.
      target.startCopy(fmt::format("COPY {} ({}) FROM STDIN", p.target.quoted(), cols),
                       PGRES_COPY_IN);
      worker->startCopy(fmt::format("COPY (SELECT {} FROM {}\n WHERE {}) TO STDOUT", cols,
                                    p.location.quoted(), range),
                        PGRES_COPY_OUT);
      n = pipe(*worker, target);
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
    target.exec("COMMIT");
    result.rows += n;
    progress->advance(n);
    if (options.after_range) options.after_range(range_no);
    if (upper.empty()) break;
    last_key = upper;
  }
  if (worker) worker->exec("COMMIT");
  source.exec("COMMIT");
  progress->finish();
  return result;
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
