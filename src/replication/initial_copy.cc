#include "replication/initial_copy.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <mutex>
#include <thread>

#include "engine/fault.h"
#include "fmt/format.h"
#include "pg/conninfo.h"
#include "pg/transaction.h"
#include "sql/quote.h"
#include "sql/template.h"
#include "util/text.h"
#include "util/time.h"

namespace dbsplit::replication {
namespace {

// Connections per side. More than a couple of CPUs' worth only queue on the
// servers; a big table is one stream, so the gain is across tables.
constexpr size_t kMaxConnections = 4;

struct TableJob {
  std::string table;    // quoted, qualified
  std::string columns;  // quoted, the target's stored columns (generated ones are computed)
};

// The columns COPY FROM accepts: stored, not generated, in the table's order.
std::string copyColumns(pg::Session& target, const std::string& table) {
  return target
      .scalar(
          "SELECT string_agg(pg_catalog.quote_ident(attname), ', ' ORDER BY attnum)\n"
          "  FROM pg_catalog.pg_attribute\n"
          " WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped\n"
          "   AND attgenerated = ''",
          table)
      .value_or("");
}

// Largest first, so that the longest copy starts at once.
std::vector<TableJob> plannedJobs(pg::Session& source, pg::Session& target,
                                  const std::vector<std::string>& tables, long long& estimate) {
  std::vector<std::pair<long long, TableJob>> sized;
  estimate = 0;
  for (const std::string& t : tables) {
    pg::Result r = source.execParams(
        "SELECT pg_catalog.pg_relation_size($1::regclass), greatest(c.reltuples, 0)::bigint\n"
        "  FROM pg_catalog.pg_class c WHERE c.oid = $1::regclass",
        t);
    estimate += r[0][1].as<long long>();
    sized.push_back({r[0][0].as<long long>(), {t, copyColumns(target, t)}});
  }
  std::stable_sort(sized.begin(), sized.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<TableJob> jobs;
  for (auto& s : sized) jobs.push_back(std::move(s.second));
  return jobs;
}

// What the copy connections share: the jobs they take in turn, the rows
// copied so far (the progress bar's) and the flag that halts them all.
struct CopyRun {
  CopyRun(const engine::MoverContext& c, std::string s, std::vector<TableJob> j)
      : ctx(c), snapshot(std::move(s)), jobs(std::move(j)) {}
  const engine::MoverContext& ctx;
  std::string snapshot;
  std::vector<TableJob> jobs;
  std::atomic<size_t> next{0};
  std::atomic<size_t> finished{0};
  std::atomic<long long> rows{0};
  std::atomic<bool> stop{false};
};

// The copies of one connection pair: every table it takes, read in the
// slot's snapshot, each committed on the target as it ends. Returns its
// failure; none when it was halted because another connection failed or the
// run stopped (that one's error is the one to report).
std::exception_ptr copyTables(CopyRun& run) {
  bool halted = false;
  try {
    auto source = connectSource(run.ctx);
    auto target = connectTarget(run.ctx);
    pg::TransactionOptions in_snapshot;
    in_snapshot.isolation = pg::TransactionOptions::Isolation::kRepeatableRead;
    in_snapshot.read_only = true;
    in_snapshot.snapshot = run.snapshot;
    pg::Transaction reading(*source, in_snapshot);
    // As the subscription's workers load rows: the target's triggers and
    // foreign-key checks do not fire (the rows were checked on the source,
    // and tables referencing each other load in any order).
    target->exec("SET session_replication_role = replica");
    for (size_t i = run.next++; i < run.jobs.size() && !run.stop; i = run.next++) {
      const TableJob& job = run.jobs[i];
      pg::Transaction writing(*target);
      long long reported = 0;
      const std::int64_t copied = source->copyInto(
          "SELECT " + job.columns + " FROM " + job.table, *target, job.table, job.columns,
          [&](std::int64_t n) {
            if (run.stop) {
              halted = true;
              throw Error::stepFailed("copy_stopped", "the initial copy stopped with the run");
            }
            run.rows += n - reported;
            reported = n;
          });
      writing.commit();
      run.rows += copied - reported;
    }
    reading.commit();
    return nullptr;
  } catch (...) {
    run.stop = true;
    return halted ? nullptr : std::current_exception();
  }
}

}  // namespace

bool canLoadAsReplica(pg::Session& target) {
  return target.scalar("SELECT pg_catalog.current_setting('is_superuser')").value_or("off") == "on";
}

void dropSlotIfExists(pg::Session& source, const std::string& name) {
  source.exec(sql::renderTemplate("split/drop_slot.sql", {{"slot", sql::quoteLiteral(name)}}));
}

CopyTotals createSlotAndCopy(engine::MoverContext& ctx, const MoverArgs& a,
                             const std::vector<std::string>& tables) {
  auto source = connectSource(ctx);
  auto target = connectTarget(ctx);
  // A slot left by an interrupted copy starts too early for a new one.
  dropSlotIfExists(*source, a.name);
  if (!tables.empty()) {
    target->exec("SET session_replication_role = replica");
    target->exec("TRUNCATE " + util::join(tables, ", "));
    target->exec("RESET session_replication_role");
  }
  long long estimate = 0;
  std::vector<TableJob> jobs = plannedJobs(*source, *target, tables, estimate);

  const auto start = std::chrono::steady_clock::now();
  pg::ConnectOptions walsender;
  walsender.dsn = ctx.main_dsn;
  walsender.application_name = ctx.application_name;
  walsender.replication = true;
  auto slot_maker = pg::Session::connect(walsender);
  // The exported snapshot lives while this connection runs no other command.
  pg::Result made = slot_maker->exec("CREATE_REPLICATION_SLOT " + sql::quoteIdent(a.name) +
                                     " LOGICAL pgoutput (SNAPSHOT 'export')");
  const std::string lsn = made[0][1].c_str();
  const std::string snapshot = made[0][2].c_str();
  // Testing aid: dies with the slot made and nothing copied.
  engine::faultPoint(ctx.action.id + "#1", engine::FaultPoint::kAfter);

  const size_t n = std::max<size_t>(1, std::min(kMaxConnections, jobs.size()));
  CopyRun run{ctx, snapshot, std::move(jobs)};
  std::vector<std::exception_ptr> errors(n);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < n; ++i) {
    threads.emplace_back([&run, &error = errors[i]] {
      error = copyTables(run);
      ++run.finished;
    });
  }
  auto bar = ctx.out.progress("initial copy " + a.service, estimate, "rows");
  std::exception_ptr failure;
  while (run.finished.load() < n) {
    if (!failure && ctx.check_alive) {
      try {
        ctx.check_alive();
      } catch (...) {
        failure = std::current_exception();
        run.stop = true;
      }
    }
    bar->set(run.rows.load());
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  for (std::thread& t : threads) t.join();
  for (const std::exception_ptr& e : errors) {
    if (!failure && e) failure = e;
  }
  if (failure) std::rethrow_exception(failure);
  bar->finish();
  CopyTotals totals{run.rows.load(), static_cast<int>(run.jobs.size()), static_cast<int>(n)};
  ctx.out.event({{"event", "split_initial_copy"},
                 {"service", a.service},
                 {"tables", totals.tables},
                 {"rows", totals.rows},
                 {"connections", totals.connections},
                 {"slot_lsn", lsn},
                 {"ms", util::millisSince(start)}},
                fmt::format("  copied {} row(s) of {} table(s) over {} connection(s) in {} ms, "
                            "from the snapshot of slot {} at {}",
                            totals.rows, totals.tables, totals.connections,
                            util::millisSince(start), a.name, lsn));
  return totals;
}

}  // namespace dbsplit::replication
