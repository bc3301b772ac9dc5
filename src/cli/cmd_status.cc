// dbsplit status
#include "cli/app.h"
#include "cli/common.h"
#include "fmt/format.h"
#include "relay/lag.h"
#include "steps/outbox/catalog.h"
#include "steps/split/compat.h"

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

// One read-only session for the reports below, opened by the first that needs
// it; nullptr when the database is not reachable (status has said so already).
class ReportSession {
 public:
  ReportSession(Context& ctx, const plan::Plan& plan) : ctx_(ctx), plan_(plan) {}
  pg::Session* get() {
    if (tried_) return session_.get();
    tried_ = true;
    pg::ConnectOptions o;
    o.dsn = resolveDsn(ctx_, plan_);
    o.application_name = "dbsplit/" + plan_.migration.name + "/status";
    o.read_only = true;
    try {
      session_ = pg::Session::connect(o);
    } catch (const Error&) {
    }
    return session_.get();
  }

 private:
  Context& ctx_;
  const plan::Plan& plan_;
  bool tried_ = false;
  std::unique_ptr<pg::Session> session_;
};

// Partitions added after step 3 have no TRUNCATE trigger (docs/steps/outbox.md).
void reportUnguardedPartitions(Context& ctx, ReportSession& reports) {
  std::vector<steps::outbox::UnguardedPartition> unguarded;
  try {
    pg::Session* session = reports.get();
    if (!session) return;  // the database is not reachable: status has said so already
    unguarded = steps::outbox::unguardedPartitions(*session);
  } catch (const Error&) {
    return;
  }
  for (const auto& u : unguarded) {
    ctx.out.event({{"event", "outbox_partition_unguarded"},
                   {"table", u.table},
                   {"partition", u.partition},
                   {"fix", u.fix}},
                  fmt::format("  warning: partition {} of {} was created after the outbox step: "
                              "a TRUNCATE of it alone would remove rows without any event; "
                              "guard it with\n    {}",
                              u.partition, u.table, u.fix));
  }
}

// Schema mode's compatibility views and the sessions still using them
// (docs/steps/split.md): finalize drops the views once that count is 0.
void reportCompatViews(Context& ctx, const plan::Plan& plan, ReportSession& reports) {
  if (!journal::Journal::exists(plan.migration.journal)) return;
  std::vector<steps::split::CompatView> views;
  std::vector<steps::split::OldSessions> old;
  try {
    pg::Session* session = reports.get();
    if (!session) return;  // the database is not reachable: status has said so already
    views = steps::split::readCompatViews(*session, plan);
    if (views.empty()) return;
    auto journal =
        journal::Journal::open(plan.migration.journal, journal::Journal::Mode::kReadOnly);
    old = steps::split::readOldSessions(*session, plan, *journal);
  } catch (const Error&) {
    return;  // the database is not reachable: status has said so already
  }
  std::int64_t total = 0;
  nlohmann::json roles = nlohmann::json::array();
  for (const auto& s : old) {
    total += s.count;
    roles.push_back(
        {{"role", s.role}, {"service", s.service}, {"sessions", s.count}, {"oldest", s.oldest}});
  }
  ctx.out.event({{"event", "split_compat_views"},
                 {"views", views.size()},
                 {"old_sessions", total},
                 {"roles", roles}},
                fmt::format("  split: {} compatibility view(s) for sessions older than the split; "
                            "{} such session(s) left{}",
                            views.size(), total,
                            total == 0 ? " (`dbsplit split finalize` drops the views)" : ""));
  for (const auto& s : old) {
    ctx.out.say(fmt::format("    {}: {} session(s), oldest since {}", s.role, s.count,
                            s.oldest.empty() ? "(hidden)" : s.oldest));
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
             "  the age of the oldest, in seconds). Partitions of event tables created\n"
             "  after the outbox step are named with the statement that makes them refuse\n"
             "  a TRUNCATE of their own. After a schema-mode split, the compatibility views\n"
             "  left for older sessions and how many sessions of the owner roles still\n"
             "  predate the split (finalize drops the views once none does). Read-only.",
             "  dbsplit status\n"
             "  dbsplit status --json | jq 'select(.event == \"step\")'",
             [](Context& ctx) -> Outcome {
               auto ws = openSession(ctx);
               Outcome outcome = ws->runner->status();
               if (!ws->plan.projections.empty()) reportRelayLag(ctx, ws->plan);
               ReportSession reports(ctx, ws->plan);
               if (!ws->plan.events.empty()) reportUnguardedPartitions(ctx, reports);
               if (!ws->plan.tables.empty()) reportCompatViews(ctx, ws->plan, reports);
               return outcome;
             });
}

}  // namespace dbsplit::cli
