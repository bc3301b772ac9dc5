// dbsplit status
#include "cli/app.h"
#include "cli/common.h"
#include "fmt/format.h"
#include "relay/relay.h"

namespace dbsplit::cli {
namespace {

// Relay lag per consumer and outbox (docs/steps/projections.md): committed
// events the cursor has not passed, and the age of the oldest one.
void reportRelayLag(Context& ctx, const plan::Plan& plan) {
  for (const auto& lag : relay::relayLag(plan, resolveDsn(ctx, plan), ctx.out)) {
    nlohmann::json ev = {{"event", "relay_lag"},   {"consumer", lag.consumer},
                         {"outbox", lag.outbox},   {"started", lag.started},
                         {"events", lag.events},   {"seconds", lag.seconds},
                         {"applied", lag.applied}, {"snapshot", lag.snapshot}};
    ctx.out.event(ev,
                  lag.started
                      ? fmt::format("  relay {} <- {}: lag {} event(s), {:.1f} s "
                                    "({} applied)",
                                    lag.consumer, lag.outbox, lag.events, lag.seconds, lag.applied)
                      : fmt::format("  relay {} <- {}: not started", lag.consumer, lag.outbox));
  }
}

}  // namespace

void addStatusCommand(CLI::App& app, AppState& state) {
  addCommand(app, state, "status", "Journal state reconciled with the database",
             "  For every step: its status (pending, applying, applied, failed,\n"
             "  rolled_back) and how many of its actions are applied, checked against the\n"
             "  database's markers and verify queries. An interrupted step names the action\n"
             "  it stopped at and whether that action committed. Differences between the\n"
             "  journal, the plan and the database are listed as drift (exit 6). With\n"
             "  [[projection]]s, the relay lag of each consumer (events not applied yet and\n"
             "  the age of the oldest, in seconds). Read-only.",
             "  dbsplit status\n"
             "  dbsplit status --json | jq 'select(.event == \"step\")'",
             [](Context& ctx) -> Outcome {
               auto ws = openSession(ctx);
               Outcome outcome = ws->runner->status();
               if (!ws->plan.projections.empty()) reportRelayLag(ctx, ws->plan);
               return outcome;
             });
}

}  // namespace dbsplit::cli
