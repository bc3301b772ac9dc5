// Mover functions the engine calls for the projections step's data actions.
#include "backfill/movers.h"

#include <chrono>
#include <cstdlib>
#include <thread>

#include "backfill/backfill.h"
#include "engine/fault.h"
#include "engine/mover.h"
#include "fmt/format.h"
#include "journal/journal.h"
#include "relay/cursor.h"
#include "relay/relay.h"

namespace dbsplit::backfill {
namespace {

using relay::covers;
using relay::outboxesOf;
using relay::parseSnapshot;
using relay::ProjectionSpec;
using relay::readCursor;
using relay::Relay;
using relay::RelayOptions;
using relay::resolveProjections;
using relay::Snapshot;

pg::ConnectOptions options(engine::MoverContext& ctx, const std::string& dsn, bool read_only) {
  pg::ConnectOptions o;
  o.dsn = dsn;
  o.application_name = ctx.application_name;
  o.read_only = read_only;
  return o;
}

std::vector<ProjectionSpec> specsOf(engine::MoverContext& ctx, const std::string& consumer) {
  auto catalog = pg::Session::connect(options(ctx, ctx.main_dsn, true));
  return resolveProjections(ctx.plan, *catalog, ctx.main_dsn, consumer);
}

void runBackfill(engine::MoverContext& ctx) {
  auto args = nlohmann::json::parse(ctx.action.mover_args);
  std::string consumer = args.at("consumer"), projection = args.at("projection");
  for (const ProjectionSpec& p : specsOf(ctx, consumer)) {
    if (p.id() != projection) continue;
    BackfillOptions o;
    o.main_dsn = ctx.main_dsn;
    o.migration = ctx.plan.migration.name;
    o.lock_timeout_ms = ctx.lock_timeout_ms;
    // A testing aid: small ranges make a kill mid-backfill likely.
    if (const char* rows = std::getenv("DBSPLIT_BACKFILL_CHUNK_ROWS")) {
      o.chunk_rows = std::max<long long>(1, std::atoll(rows));
    }
    o.after_range = [&ctx](int range_no) {
      ctx.check_alive();
      engine::faultPoint(ctx.action.id + "#" + std::to_string(range_no),
                         engine::FaultPoint::kAfter);
    };
    BackfillResult r = backfill(p, o, ctx.out);
    ctx.out.event({{"event", "backfill"},
                   {"projection", p.id()},
                   {"rows", r.rows},
                   {"resumed", r.resumed},
                   {"already_complete", r.already_complete}},
                  r.already_complete
                      ? fmt::format("{}: already backfilled", p.id())
                      : fmt::format("{}: {} row(s) copied{}", p.id(), r.rows,
                                    r.resumed ? " (resumed after an interruption)" : ""));
    return;
  }
  throw Error::stepFailed("unknown_projection",
                          fmt::format("the plan has no projection {} any more", projection));
}

// A `dbsplit relay` already runs for this consumer: it does the catching up;
// wait until its cursors cover `t`.
void waitForRunningRelay(engine::MoverContext& ctx, const std::vector<ProjectionSpec>& specs,
                         const std::string& consumer) {
  auto target = pg::Session::connect(options(ctx, ctx.target_dsn, true));
  auto source = pg::Session::connect(options(ctx, ctx.main_dsn, true));
  Snapshot t = parseSnapshot(*source->scalar("SELECT pg_current_snapshot()::text"));
  for (;;) {
    ctx.check_alive();
    bool done = true;
    for (const auto& outbox : outboxesOf(specs)) {
      auto cur = readCursor(*target, consumer, outbox);
      done = done && cur && covers(parseSnapshot(cur->snapshot), t);
    }
    if (done) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

void runStart(engine::MoverContext& ctx) {
  auto args = nlohmann::json::parse(ctx.action.mover_args);
  std::string consumer = args.at("consumer");
  std::vector<ProjectionSpec> specs = specsOf(ctx, consumer);
  {
    auto target = pg::Session::connect(options(ctx, ctx.target_dsn, false));
    startCursors(specs, *target);
  }
  RelayOptions o;
  o.main_dsn = ctx.main_dsn;
  o.migration = ctx.plan.migration.name;
  o.consumer = consumer;
  o.application = "projections";
  o.journal = ctx.journal;  // the relay_start snapshot
  Relay relay(specs, o, ctx.out);
  try {
    relay.connect();
  } catch (const Error& e) {
    if (e.code() != ExitCode::kLocked) throw;
    ctx.out.say(fmt::format("{}; waiting for it to catch up", e.what()));
    waitForRunningRelay(ctx, specs, consumer);
    return;
  }
  const std::string at = relay.sourceSnapshot().str();
  Relay::Moment t = relay.moment();
  auto progress = ctx.out.progress("relay " + consumer + " catch-up", 0, "events");
  for (int n = 1; !relay.covers(t); ++n) {
    ctx.check_alive();
    std::int64_t applied = relay.poll();
    progress->advance(applied);
    engine::faultPoint(ctx.action.id + "#" + std::to_string(n), engine::FaultPoint::kAfter);
    if (applied == 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  progress->finish();
  ctx.out.event({{"event", "relay_caught_up"},
                 {"consumer", consumer},
                 {"applied", relay.appliedTotal()},
                 {"snapshot", at}},
                fmt::format("relay of {} caught up ({} event(s) applied); keep it running: "
                            "dbsplit relay --consumer {}",
                            consumer, relay.appliedTotal(), consumer));
}

}  // namespace

void registerMovers() {
  static const bool once = [] {
    engine::registerMover(kBackfillMover, runBackfill);
    engine::registerMover(kStartMover, runStart);
    return true;
  }();
  (void)once;
}

}  // namespace dbsplit::backfill
