// dbsplit compare [--consumer C] [--table T]: proves projections equal to their
// sources (src/compare, docs/compare.md).
#include "cli/app.h"
#include "cli/common.h"
#include "compare/compare.h"
#include "compare/record.h"
#include "fmt/format.h"
#include "util/time.h"

namespace dbsplit::cli {
namespace {

struct CompareArgs {
  compare::Options options;
  std::string settle_timeout = "60s";
  int show = 10;
};

std::string humanTable(const compare::TableReport& t) {
  std::string what =
      t.missing + t.extra + t.different == 0
          ? "equal"
          : fmt::format("{} missing, {} extra, {} different", t.missing, t.extra, t.different);
  return fmt::format(
      "{} <- {}: {} source row(s), {} projection row(s): {} ({} chunk(s), {} "
      "queries, {:.2f} s)",
      t.projection, t.source, t.source_rows, t.projection_rows, what, t.chunks, t.queries,
      static_cast<double>(t.millis) / 1000.0);
}

void report(Context& ctx, const compare::ConsumerReport& r, int show) {
  for (const auto& t : r.tables) {
    ctx.out.event({{"event", "compare_table"},
                   {"consumer", r.consumer},
                   {"projection", t.projection},
                   {"source", t.source},
                   {"source_rows", t.source_rows},
                   {"projection_rows", t.projection_rows},
                   {"missing", t.missing},
                   {"extra", t.extra},
                   {"different", t.different},
                   {"chunks", t.chunks},
                   {"queries", t.queries},
                   {"millis", t.millis}},
                  humanTable(t));
  }
  int shown = 0;
  for (const auto& d : r.differences) {
    std::string human;
    if (shown < show) human = fmt::format("  {:<9} {} {}", d.kind, d.projection, d.key.dump());
    if (shown == show) {
      human = fmt::format("  ... and {} more (all of them with --json)",
                          r.differences.size() - static_cast<size_t>(show));
    }
    ++shown;
    if (human.empty() && !ctx.out.json()) continue;
    ctx.out.event({{"event", "difference"},
                   {"consumer", r.consumer},
                   {"projection", d.projection},
                   {"kind", d.kind},
                   {"key", d.key}},
                  human);
  }
  if (r.error) ctx.out.error(*r.error);
  std::string verdict =
      r.error ? "failed" : (!r.differences.empty() ? "differences found" : "clean");
  if (r.partial && verdict == "clean") verdict = "clean for the tables compared (--table)";
  ctx.out.event({{"event", "compare"},
                 {"consumer", r.consumer},
                 {"clean", r.clean()},
                 {"partial", r.partial},
                 {"differences", r.differences.size()},
                 {"relay_snapshot", r.relay_snapshot}},
                fmt::format("consumer {}: {}", r.consumer, verdict));
}

Outcome runCompare(Context& ctx, CompareArgs& args) {
  plan::Plan plan = loadPlan(ctx);
  compare::Options& o = args.options;
  o.dsn = resolveDsn(ctx, plan);
  o.settle_timeout_ms = util::parseDurationMillis(args.settle_timeout, "--settle-timeout");
  auto selections = compare::select(plan, o);
  compare::CompareJournal journal(plan, o.dsn);
  ExitCode code = ExitCode::kOk;
  std::optional<Error> first_error;
  std::vector<std::string> unclean;
  for (const auto& sel : selections) {
    compare::ConsumerReport r = compare::compareConsumer(plan, sel, o, ctx.out);
    journal.record(r);
    report(ctx, r, args.show);
    if (r.error) {
      if (!first_error) first_error = r.error;
    } else if (!r.differences.empty()) {
      unclean.push_back(r.consumer);
    }
  }
  if (first_error) {
    code = first_error->code();
  } else if (!unclean.empty()) {
    code = ExitCode::kPrecondition;
  }
  journal.finish(code);
  std::vector<std::string> next;
  if (code == ExitCode::kOk) {
    // Not "run revoke": its other gates (the deprecation window) may still block.
    next = {"dbsplit walk   (or: dbsplit run revoke --dry-run: revoke's gates, nothing changes)"};
  } else if (!unclean.empty()) {
    next = {"dbsplit compare --consumer " + unclean.front() + " --json"};
  }
  return {code, next, {{"consumers", selections.size()}, {"unclean", unclean}}};
}

}  // namespace

void addCompareCommand(CLI::App& app, AppState& state) {
  auto args = std::make_shared<CompareArgs>();
  CLI::App* cmd =
      addCommand(app, state, "compare", "Prove each projection equal to its source",
                 "  For every [[projection]] (or those of --consumer, or the one --table names),\n"
                 "  compares the source table's declared columns with the projection, row by\n"
                 "  row in effect, without moving the rows: both sides hash key-range chunks at\n"
                 "  the same time (row count and an order-independent hash of every row's\n"
                 "  values, equal for equal values whatever their form: numeric scale, time\n"
                 "  zone, jsonb formatting); a chunk that differs is split --bisection-factor\n"
                 "  ways until it holds at most --bisection-threshold rows, whose keys and row\n"
                 "  hashes are then matched. The projection may live in another database\n"
                 "  ([[service]] database).\n"
                 "\n"
                 "  Differences seen while the relay is behind are re-checked, key by key, once\n"
                 "  the consumer's relay cursor has passed the moment they were seen (up to\n"
                 "  --retries times, waiting at most --settle-timeout each time); only those\n"
                 "  that persist are reported: missing (in the source only), extra (in the\n"
                 "  projection only) or different, with their keys (the first --show printed,\n"
                 "  all of them with --json). Without a relay the differences are reported as\n"
                 "  found, and the command says so.\n"
                 "\n"
                 "  Each consumer's result is stored in the journal; `dbsplit run revoke`\n"
                 "  requires the latest one to be clean. Reads only; takes no lock. Exit 0 when\n"
                 "  every projection is equal, 3 when differences were found or the input is\n"
                 "  unusable (a missing projection, changed columns, a key without an order).",
                 "  dbsplit compare\n"
                 "  dbsplit compare --consumer fulfillment --table order_view\n"
                 "  dbsplit compare --json | jq 'select(.event == \"difference\")'",
                 [args](Context& ctx) -> Outcome { return runCompare(ctx, *args); });
  cmd->add_option("--consumer", args->options.consumer, "Only this consumer's projections")
      ->type_name("C");
  cmd->add_option("--table", args->options.table,
                  "Only this projection (consumer.name or name) or source table")
      ->type_name("T");
  cmd->add_option("--bisection-factor", args->options.bisect.factor,
                  "Sub-chunks per split of a differing chunk (default 32)")
      ->check(CLI::Range(2, 1024));
  cmd->add_option("--bisection-threshold", args->options.bisect.threshold,
                  "Rows at or below which a chunk is compared row by row (default 16384)")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{10000000}));
  cmd->add_option("--settle-timeout", args->settle_timeout,
                  "How long to wait for the relay before a re-check (default 60s)")
      ->type_name("DURATION");
  cmd->add_option("--retries", args->options.retries,
                  "Re-checks of differing keys before they are reported (default 5)")
      ->check(CLI::Range(1, 100));
  cmd->add_option("--show", args->show, "Differences printed per run (default 10; --json: all)")
      ->check(CLI::Range(0, 1000000));
}

}  // namespace dbsplit::cli
