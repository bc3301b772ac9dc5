// split.subscribe and split.catchup: the slot and the initial copy
// (initial_copy.h), then the target's subscription to the source's publication
// through that slot (made by dbsplit: CREATE SUBSCRIPTION cannot create a slot
// on its own cluster without waiting for itself); catch-up shows tables synced
// and lag until every table is ready and the target has streamed past the
// source's position at its start.
#include <chrono>
#include <thread>

#include "engine/fault.h"
#include "fmt/format.h"
#include "pg/conninfo.h"
#include "replication/endpoints.h"
#include "replication/initial_copy.h"
#include "replication/movers.h"
#include "sql/quote.h"
#include "sql/template.h"
#include "util/reporter.h"

namespace dbsplit::replication {

namespace {

bool subscribed(pg::Session& target, const std::string& name) {
  return target
      .scalar(
          "SELECT 1 FROM pg_catalog.pg_subscription WHERE subname = $1 AND subdbid = "
          "(SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())",
          name)
      .has_value();
}

}  // namespace

void subscribe(engine::MoverContext& ctx) {
  MoverArgs a = parseArgs(ctx);
  auto target = connectTarget(ctx);
  if (subscribed(*target, a.name)) return;
  auto source = connectSource(ctx);
  // dbsplit copies the rows itself when it may load them as the
  // subscription's workers do (initial_copy.h); otherwise the subscription
  // copies them, from a slot of its own starting point.
  const bool copy_here = canLoadAsReplica(*target);
  if (copy_here) {
    createSlotAndCopy(ctx, a, publishedTables(*source, a.name));
    // Testing aid: dies with every row copied and no subscription.
    engine::faultPoint(ctx.action.id + "#2", engine::FaultPoint::kAfter);
  } else {
    dropSlotIfExists(*source, a.name);
    source->execParams("SELECT pg_catalog.pg_create_logical_replication_slot($1, 'pgoutput')",
                       a.name);
    ctx.out.say(
        fmt::format("  the subscription copies the rows itself ({} cannot load them with "
                    "session_replication_role = replica)",
                    pg::redactDsn(ctx.target_dsn)));
  }
  const std::string q = sql::quoteIdent(a.name);
  // The connection string reaches the server's own apply worker: built here,
  // never journaled (it may hold a password).
  target->exec(
      fmt::format("CREATE SUBSCRIPTION {}\n  CONNECTION {}\n  PUBLICATION {}\n"
                  "  WITH (create_slot = false, slot_name = {}, copy_data = {})",
                  q, sql::quoteLiteral(pg::buildConninfo(ctx.main_dsn, {})), q,
                  sql::quoteLiteral(a.name), copy_here ? "false" : "true"));
  ctx.out.say(
      fmt::format("  {} subscribed to publication {}", pg::redactDsn(ctx.target_dsn), a.name));
}

void unsubscribe(engine::MoverContext& ctx) {
  MoverArgs a = parseArgs(ctx);
  {
    auto target = connectTarget(ctx);
    if (subscribed(*target, a.name)) {
      target->exec(
          sql::renderTemplate("split/drop_subscription.sql", {{"name", sql::quoteIdent(a.name)}}));
    }
  }
  auto source = connectSource(ctx);
  dropSlotIfExists(*source, a.name);
}

void catchUp(engine::MoverContext& ctx) {
  MoverArgs a = parseArgs(ctx);
  auto source = connectSource(ctx);
  auto target = connectTarget(ctx);
  std::unique_ptr<util::Progress> bar;
  auto start = std::chrono::steady_clock::now();
  auto last_event = start - std::chrono::seconds(10);
  auto last_worker = start;
  long long last_synced = -1;
  // The rows copied before the subscription started are as old as the copy:
  // caught up means streamed past where the source stood when this began.
  const std::string want_lsn = *source->scalar("SELECT pg_catalog.pg_current_wal_lsn()::text");
  for (;;) {
    if (ctx.check_alive) ctx.check_alive();
    pg::Result r = target->execParams(
        "SELECT count(*) FILTER (WHERE r.srsubstate = 'r'), count(*)\n"
        "  FROM pg_catalog.pg_subscription_rel r\n"
        "  JOIN pg_catalog.pg_subscription s ON s.oid = r.srsubid\n"
        " WHERE s.subname = $1 AND s.subdbid = (SELECT oid FROM pg_catalog.pg_database\n"
        "                                        WHERE datname = current_database())",
        a.name);
    long long synced = r[0][0].as<long long>();
    long long total = r[0][1].as<long long>();
    pg::Result slot = source->execParams(
        "SELECT coalesce(pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_lsn(),\n"
        "                                           confirmed_flush_lsn), 0)::bigint, active,\n"
        "       coalesce(confirmed_flush_lsn >= $2::pg_lsn, false)\n"
        "  FROM pg_catalog.pg_replication_slots\n"
        " WHERE slot_name = $1 AND database = current_database()",
        a.name, want_lsn);
    long long lag_bytes = slot.empty() ? 0 : slot[0][0].as<long long>();
    // A worker that cannot stream (its slot taken, the source unreachable)
    // is restarted every few seconds and shows up between failures: only a
    // worker whose slot is in use counts as running.
    const bool streaming = !slot.empty() && slot[0][1].as<bool>();
    pg::Result w = target->execParams(
        "SELECT round(extract(epoch FROM now() - latest_end_time)::numeric, 1)::text\n"
        "  FROM pg_catalog.pg_stat_subscription\n"
        " WHERE subname = $1 AND relid IS NULL AND pid IS NOT NULL",
        a.name);
    std::optional<std::string> lag_s;
    if (!w.empty() && !w[0][0].is_null()) lag_s = w[0][0].c_str();
    auto now = std::chrono::steady_clock::now();
    if (!w.empty() && streaming) last_worker = now;
    if (!bar) bar = ctx.out.progress("catch-up " + a.service, total, "tables");
    bar->set(synced);
    bar->note(fmt::format("lag {} bytes, {} s", lag_bytes, lag_s.value_or("?")));
    const bool streamed_past = !slot.empty() && slot[0][2].as<bool>();
    bool done = total > 0 && synced == total && streamed_past;
    if (done || synced != last_synced || now - last_event > std::chrono::seconds(5)) {
      ctx.out.event({{"event", "split_catchup"},
                     {"service", a.service},
                     {"tables_synced", synced},
                     {"tables", total},
                     {"lag_bytes", lag_bytes},
                     {"lag_seconds", lag_s ? nlohmann::json(std::stod(*lag_s)) : nullptr}},
                    fmt::format("  catch-up {}: {}/{} tables synced, lag {} bytes, {} s", a.service,
                                synced, total, lag_bytes, lag_s.value_or("?")));
      last_event = now;
      last_synced = synced;
    }
    if (done) break;
    if (now - last_worker > std::chrono::seconds(60)) {
      throw Error::stepFailed(
          "subscription_not_running",
          fmt::format(
              "the subscription {} in {} has had no apply worker streaming from its slot for 60 s",
              a.name, pg::redactDsn(ctx.target_dsn)),
          "read the target server's log (a failing initial copy retries there), fix the cause, "
          "then `dbsplit resume`");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  bar->finish();
  target->exec(fmt::format("COMMENT ON SUBSCRIPTION {} IS {}", sql::quoteIdent(a.name),
                           sql::quoteLiteral(kCaughtUpComment)));
}

}  // namespace dbsplit::replication
