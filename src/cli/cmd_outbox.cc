// dbsplit outbox prune --older-than DURATION [--dry-run]
#include "cli/app.h"
#include "cli/common.h"
#include "fmt/format.h"
#include "prune/prune.h"
#include "steps/outbox/debezium.h"
#include "util/text.h"
#include "util/time.h"

namespace dbsplit::cli {
namespace {

struct PruneArgs {
  std::string older_than;
  bool dry_run = false;
  int batch = 10000;
};

Outcome runPrune(Context& ctx, const PruneArgs& args) {
  plan::Plan plan = loadPlan(ctx);
  prune::PruneOptions options;
  options.dsn = resolveDsn(ctx, plan);
  options.older_than_ms = util::parseDurationMillis(args.older_than, "--older-than");
  options.batch = args.batch;
  std::int64_t all = 0;
  // --dry-run counts instead of deleting: the command picks the function.
  const std::vector<prune::PruneResult> results =
      args.dry_run ? prune::countPrunable(plan, options) : prune::prune(plan, options, ctx.out);
  for (const auto& r : results) {
    nlohmann::json ev = {{"event", "prune"},
                         {"service", r.service},
                         {"outbox", r.service + ".outbox"},
                         {"dry_run", args.dry_run},
                         {"deleted", r.deleted},
                         {"below_seq", r.below_seq ? nlohmann::json(*r.below_seq) : nullptr},
                         {"blocked_by", r.blocked_by},
                         {"outbox_missing", r.outbox_missing}};
    if (!r.database.empty()) ev["database"] = r.database;
    std::string human;
    if (r.outbox_missing) {
      human =
          fmt::format("{}.outbox: no outbox yet (dbsplit run outbox); nothing to prune", r.service);
    } else if (!r.blocked_by.empty()) {
      human =
          fmt::format("{}.outbox: nothing pruned: {}", r.service, util::join(r.blocked_by, "; "));
    } else {
      human = fmt::format(
          "{}.outbox: {} {} event(s) older than {}{}", r.service,
          args.dry_run ? "would delete" : "deleted", r.deleted, args.older_than,
          r.below_seq ? fmt::format(" with seq below {} (every consumer's cursor)", *r.below_seq)
                      : " (no consumer projects this service's tables)");
      if (!r.database.empty()) human += " in the service's own database " + r.database;
    }
    ctx.out.event(ev, human);
    all += r.deleted;
  }
  return {ExitCode::kOk, {"dbsplit status"}, {{"deleted", all}, {"dry_run", args.dry_run}}};
}

}  // namespace

Outcome planDebezium(Context& ctx, const std::string& step) {
  if (step != "outbox") {
    throw Error::usage("usage", "--format debezium renders the outbox step's connector configs",
                       "dbsplit plan outbox --format debezium");
  }
  plan::Plan plan = loadPlan(ctx);
  auto configs = steps::outbox::debeziumConfigs(plan, resolveDsn(ctx, plan));
  if (configs.empty()) {
    throw Error::usage("no_events", "the plan has no [[event]]: no service publishes anything",
                       "declare [[event]] entries (docs/steps/outbox.md)");
  }
  for (const auto& c : configs) {
    ctx.out.event({{"event", "connector"}, {"service", c.service}, {"config", c.config}},
                  c.config.dump(2));
  }
  return {ExitCode::kOk, {"dbsplit run outbox"}};
}

void addOutboxCommand(CLI::App& app, AppState& state) {
  CLI::App* outbox = app.add_subcommand("outbox", "Outbox maintenance: prune consumed events");
  outbox->fallthrough();
  outbox->require_subcommand(1);
  auto args = std::make_shared<PruneArgs>();
  CLI::App* prune =
      addCommand(*outbox, state, "prune", "Delete outbox events every consumer has passed",
                 "  Deletes events from each service's outbox (<service>.outbox) that are older\n"
                 "  than --older-than AND whose seq is below the relay cursor of every consumer\n"
                 "  with a [[projection]] on a table of that service. The cursors are read from\n"
                 "  <consumer>.dbsplit_cursor (outbox, seq); a consumer without a cursor table or\n"
                 "  row means nothing is pruned for that service, and the command says so. An\n"
                 "  unconsumed event is never deleted. Deletes in small batches, each its own\n"
                 "  transaction, under the migration's run lock. --dry-run only counts.",
                 "  dbsplit outbox prune --older-than 7d\n"
                 "  dbsplit outbox prune --older-than 12h --dry-run --json",
                 [args](Context& ctx) -> Outcome { return runPrune(ctx, *args); });
  prune->add_option("--older-than", args->older_than, "Age of the events to delete: 7d, 12h, 30m")
      ->type_name("DURATION")
      ->required();
  prune->add_flag("--dry-run", args->dry_run, "Count what would be deleted; delete nothing");
  prune->add_option("--batch", args->batch, "Rows per DELETE transaction (default 10000)")
      ->check(CLI::Range(1, 1000000));
}

}  // namespace dbsplit::cli
