// split.cutover: runs right after the fence action revoked every write to the
// service's tables on the source. Waits (bounded) for the owner's in-flight
// transactions to end, then for the target to hold exactly the source's rows
// (counts and content hashes of every published table: lag zero, verified),
// copies every sequence's position, runs the on_cutover hook with the new DSN
// and marks the subscription. Any failure throws: the engine then rolls the
// run back, which unfences the source.
#include "cutover/cutover.h"

#include <chrono>
#include <cstdlib>
#include <exception>
#include <map>
#include <mutex>
#include <thread>

#include "engine/fault.h"
#include "fmt/format.h"
#include "pg/conninfo.h"
#include "pg/transaction.h"
#include "replication/endpoints.h"
#include "sql/quote.h"
#include "sql/template.h"
#include "util/process.h"
#include "util/text.h"
#include "util/time.h"

namespace dbsplit::cutover {
namespace {

using replication::connectSource;
using replication::connectTarget;
using replication::MoverArgs;
using replication::parseArgs;
using replication::publishedTables;

constexpr auto kInflightBound = std::chrono::seconds(10);
constexpr auto kConvergeBound = std::chrono::seconds(30);

using Clock = std::chrono::steady_clock;

// Backends of the owner's (non-superuser) roles in a transaction that wrote
// and began before `since`.
constexpr const char* kInflight = R"SQL(
SELECT string_agg(a.pid::text || ' (' || a.usename || ')', ', ')
  FROM pg_catalog.pg_stat_activity a
  JOIN pg_catalog.pg_roles r ON r.oid = a.usesysid
 WHERE a.datname = current_database() AND a.pid <> pg_catalog.pg_backend_pid()
   AND a.backend_xid IS NOT NULL AND a.xact_start < $1::timestamptz
   AND NOT r.rolsuper AND pg_catalog.pg_has_role(a.usesysid, $2::name, 'MEMBER'))SQL";

// Equal rows print alike on both sides whatever the servers' defaults.
void pinOutputSettings(pg::Session& s) {
  s.exec(
      "SET DateStyle = ISO; SET IntervalStyle = postgres; SET TimeZone = 'UTC';\n"
      "SET extra_float_digits = 3; SET bytea_output = hex");
}

TableDigest digest(pg::Session& s, const std::string& table) {
  pg::Result r = s.exec(
      "SELECT count(*), coalesce(sum(pg_catalog.hashtextextended(t::text, 0)), 0)::text FROM " +
      table + " AS t");
  return {r[0][0].as<long long>(), r[0][1].c_str()};
}

// The source's digests, read on a thread of their own while the caller reads
// the target's: the fenced writers wait for the slower side only.
class SourceDigests {
 public:
  SourceDigests(pg::Session& source, const std::vector<std::string>& tables)
      : thread_([this, &source, &tables] {
          try {
            for (const std::string& t : tables) digests_[t] = digest(source, t);
          } catch (...) {
            error_ = std::current_exception();
          }
        }) {}
  ~SourceDigests() {
    if (thread_.joinable()) thread_.join();
  }
  SourceDigests(const SourceDigests&) = delete;
  SourceDigests& operator=(const SourceDigests&) = delete;
  std::map<std::string, TableDigest> get() {
    thread_.join();
    if (error_) std::rethrow_exception(error_);
    return digests_;
  }

 private:
  std::map<std::string, TableDigest> digests_;
  std::exception_ptr error_;
  std::thread thread_;
};

void runHook(const engine::MoverContext& ctx, const MoverArgs& a) {
  const std::string& hook = ctx.plan.split.on_cutover;
  if (hook.empty()) return;
  // The new DSN (it may hold a password) goes in the hook's environment only.
  util::Environment env = {{"DBSPLIT_NEW_DSN", ctx.target_dsn},
                           {"DBSPLIT_SERVICE", a.service},
                           {"DBSPLIT_MIGRATION", ctx.plan.migration.name}};
  // With PgBouncer, the pools are paused while the hook runs: it may repoint
  // the service's pool ([databases] entry, then RELOAD on the console).
  if (!ctx.plan.split.pgbouncer.empty()) {
    env["DBSPLIT_PGBOUNCER"] = ctx.plan.split.pgbouncer;
    for (const plan::Service& s : ctx.plan.services) {
      if (s.name == a.service && !s.pgbouncer_pool.empty()) {
        env["DBSPLIT_PGBOUNCER_POOL"] = s.pgbouncer_pool;
      }
    }
  }
  util::ProcessResult r = util::runProcess({"/bin/sh", "-c", hook}, {}, env);
  if (r.exit_code != 0) {
    throw Error::stepFailed(
        "on_cutover_failed",
        fmt::format("the on_cutover hook exited with {}: {}", r.exit_code,
                    util::lastLines(r.output, 5)),
        "the cutover is aborted: the run rolls back and the source takes writes again; fix the "
        "hook and run the step again");
  }
  ctx.out.say(fmt::format("  on_cutover hook done: {}", util::lastLines(r.output, 1)));
}

// The cutover position of the owner's outbox, for the relays that follow it
// into the new database (relay/relay.h): `seq` is the synced high-water mark
// (every replicated event has seq <= it, every event written here after the
// cutover a larger one), `snapshot` the new server's snapshot taken before the
// sync, `source_snapshot` the source's once the fenced writers had ended.
// Kept when a resumed cutover finds it (the first one was taken before the
// first sync; a second could be taken after the service started writing).
bool recordPosition(pg::Session& source, pg::Session& target, const MoverArgs& a,
                    const std::string& source_snapshot, const std::string& target_snapshot) {
  const std::string outbox = sql::quoteQualified(a.schema, "outbox");
  if (!target.scalar("SELECT to_regclass($1)::text", outbox)) return false;  // no outbox step
  std::optional<std::string> seq =
      source.scalar("SELECT pg_catalog.pg_get_serial_sequence($1, 'seq')", outbox);
  if (!seq) return false;
  pg::Result v = source.exec("SELECT last_value, is_called FROM " + *seq);
  long long high = v[0][0].as<long long>() - (v[0][1].as<bool>() ? 0 : 1);
  pg::Transaction tx(target);
  target.exec(sql::renderTemplate("split/cutover_position.sql",
                                  {{"table", sql::quoteQualified(a.schema, kCutoverTable)},
                                   {"outbox", sql::quoteLiteral(a.schema + ".outbox")},
                                   {"seq", std::to_string(high)},
                                   {"snapshot", sql::quoteLiteral(target_snapshot)},
                                   {"source_snapshot", sql::quoteLiteral(source_snapshot)}}));
  tx.commit();
  return true;
}

// The subscription's comment while the on_cutover hook may be running: set
// (committed) before the hook starts, replaced by the cutover mark once it is
// done. A resumed cutover that finds it never runs the hook again.
constexpr const char* kHookStarted = "dbsplit on_cutover started at ";

std::string subscriptionComment(pg::Session& target, const std::string& name) {
  return target
      .scalar(
          "SELECT pg_catalog.obj_description(s.oid, 'pg_subscription')\n"
          "  FROM pg_catalog.pg_subscription s WHERE s.subname = $1\n"
          "   AND s.subdbid = (SELECT oid FROM pg_catalog.pg_database\n"
          "                     WHERE datname = pg_catalog.current_database())",
          name)
      .value_or("");
}

void commentSubscription(pg::Session& target, const std::string& name, const std::string& comment) {
  target.exec(fmt::format("COMMENT ON SUBSCRIPTION {} IS {}", sql::quoteIdent(name),
                          comment.empty() ? "NULL" : sql::quoteLiteral(comment)));
}

// The mark of a finished cutover, and (in the same transaction) the
// position's "done", which outlives the subscription (split finalize drops it).
void markDone(pg::Session& target, const MoverArgs& a, bool positioned) {
  pg::Transaction tx(target);
  commentSubscription(
      target, a.name,
      "dbsplit cutover done at " + util::nowIso8601() + "; writes on the source are fenced");
  if (positioned) {
    target.exec("UPDATE " + sql::quoteQualified(a.schema, kCutoverTable) +
                " SET done_at = now() WHERE done_at IS NULL");
  }
  tx.commit();
}

}  // namespace

void cutover(engine::MoverContext& ctx) {
  MoverArgs a = parseArgs(ctx);
  auto source = connectSource(ctx);
  auto target = connectTarget(ctx);
  if (subscriptionComment(*target, a.name).rfind(kHookStarted, 0) == 0) {
    // An interrupted run started the hook: the service may already write to
    // the new database, so nothing is checked or synced again and the hook
    // is not run twice. Only the mark is left to make.
    if (ctx.point_of_no_return) ctx.point_of_no_return();
    ctx.out.warn(fmt::format(
        "the on_cutover hook of {} was started by an interrupted run; it is not run again. "
        "Check that it finished (the service points at {})",
        a.service, pg::redactDsn(ctx.target_dsn)));
    markDone(
        *target, a,
        target->scalar("SELECT to_regclass($1)::text", sql::quoteQualified(a.schema, kCutoverTable))
            .has_value());
    return;
  }
  const auto fenced_at = Clock::now();
  const std::string since = *source->scalar("SELECT clock_timestamp()::text");

  // 1. In-flight transactions of the owner's roles, begun before the fence.
  for (;;) {
    if (ctx.check_alive) ctx.check_alive();
    std::optional<std::string> busy = source->scalar(kInflight, since, a.service);
    if (!busy) break;
    if (Clock::now() - fenced_at > kInflightBound) {
      throw Error::stepFailed(
          "inflight_writers",
          fmt::format("transactions of {}'s roles begun before the fence are still open after "
                      "{} s: {}",
                      a.service, kInflightBound.count(), *busy),
          "end them (or wait for a quieter moment) and run the step again; the source is "
          "unfenced by the rollback");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }

  // 2. Lag zero, proven by content: the source no longer changes.
  std::vector<std::string> tables = publishedTables(*source, a.name);
  pinOutputSettings(*source);
  pinOutputSettings(*target);
  std::map<std::string, TableDigest> want;
  std::map<std::string, TableDigest> have;
  {
    SourceDigests reading(*source, tables);
    for (const std::string& t : tables) have[t] = digest(*target, t);
    want = reading.get();
  }
  long long rows = 0;
  for (const auto& [t, d] : want) rows += d.rows;
  std::vector<std::string> differ;
  for (bool first = true;; first = false) {
    differ.clear();
    for (const std::string& t : tables) {
      if (!first) have[t] = digest(*target, t);
      if (!(have[t] == want[t])) differ.push_back(t);
    }
    if (differ.empty()) break;
    if (Clock::now() - fenced_at > kConvergeBound) {
      throw Error::stepFailed(
          "cutover_not_converged",
          fmt::format("after {} s the target still differs from the source in {}",
                      kConvergeBound.count(), util::join(differ, ", ")),
          "check the subscription's worker in the target server's log; the source is unfenced "
          "by the rollback");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }

  // Every transaction that wrote the owner's tables on the source has ended:
  // a relay whose cursor covers this snapshot has every source event.
  const std::string source_snapshot = *source->scalar("SELECT pg_current_snapshot()::text");
  // Taken before the sequences move: a transaction of the new database that
  // draws an outbox seq after the sync had not ended by then, so it is
  // invisible in this snapshot (docs/steps/split.md, "Consumers after the cutover").
  const std::string target_snapshot = *target->scalar("SELECT pg_current_snapshot()::text");

  // 3. Sequences continue where the source stopped; never moved back (a
  // resumed cutover may find the new database already written to).
  int sequences = 0;
  for (const auto& row :
       source->execParams("SELECT n.nspname, c.relname FROM pg_catalog.pg_class c\n"
                          "  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace\n"
                          " WHERE n.nspname = $1 AND c.relkind = 'S' ORDER BY 2",
                          a.schema)) {
    std::string seq = sql::quoteQualified(row[0].c_str(), row[1].c_str());
    pg::Result v = source->exec("SELECT last_value::text, is_called FROM " + seq);
    pg::Result t = target->exec("SELECT last_value::text, is_called FROM " + seq);
    bool ahead = t[0][1].as<bool>() && t[0][0].as<long long>() >= v[0][0].as<long long>();
    if (!ahead) {
      target->execParams("SELECT pg_catalog.setval($1::regclass, $2::bigint, $3::boolean)", seq,
                         std::string(v[0][0].c_str()), std::string(v[0][1].c_str()));
    }
    ++sequences;
  }
  const bool positioned = recordPosition(*source, *target, a, source_snapshot, target_snapshot);
  // Testing aid: dies with the position recorded and the cutover not marked.
  engine::faultPoint(ctx.action.id + "#1", engine::FaultPoint::kAfter);

  // 4. The traffic switch, at most once: the "started" mark commits before
  // the hook runs, and once it ran the run never rolls itself back.
  if (!ctx.plan.split.on_cutover.empty()) {
    commentSubscription(*target, a.name, kHookStarted + util::nowIso8601());
    try {
      runHook(ctx, a);
    } catch (...) {
      // The hook says it did not switch: no relay may follow the outbox there.
      commentSubscription(*target, a.name, replication::kCaughtUpComment);
      target->exec("DROP TABLE IF EXISTS " + sql::quoteQualified(a.schema, kCutoverTable));
      throw;
    }
    if (ctx.point_of_no_return) ctx.point_of_no_return();
    // Testing aid: dies with the hook run and the cutover not marked.
    engine::faultPoint(ctx.action.id + "#2", engine::FaultPoint::kAfter);
  }
  markDone(*target, a, positioned);
  long long ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - fenced_at).count();
  const std::string dsn = pg::redactDsn(ctx.target_dsn);
  ctx.out.event({{"event", "cutover"},
                 {"service", a.service},
                 {"new_dsn", dsn},
                 {"tables", tables.size()},
                 {"rows", rows},
                 {"sequences", sequences},
                 {"ms", ms}},
                fmt::format("  cutover of {} done in {} ms: {} table(s), {} row(s) verified, {} "
                            "sequence(s) synced.\n  The service now lives in: {}\n"
                            "  Next: point {}'s connections there (unless on_cutover did), then "
                            "`dbsplit split finalize`;\n  `dbsplit rollback split` goes back "
                            "(writes made in the new database are not copied back).",
                            a.service, ms, tables.size(), rows, sequences, dsn, a.service));
}

void registerMover() {
  static std::once_flag once;
  std::call_once(once, [] { engine::registerMover("split.cutover", cutover); });
}

}  // namespace dbsplit::cutover
