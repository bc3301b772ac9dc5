// dbsplit relay [--once] [--consumer C] [--batch N] [--skip-event ID]...
#include <algorithm>
#include <csignal>
#include <thread>

#include "cli/app.h"
#include "cli/common.h"
#include "fmt/format.h"
#include "journal/journal.h"
#include "relay/relay.h"
#include "util/text.h"

namespace dbsplit::cli {
namespace {

struct RelayArgs {
  bool once = false;
  std::string consumer;
  int batch = 10000;
  int poll_ms = 200;
  std::vector<std::string> skip;
};

volatile std::sig_atomic_t g_stop = 0;

extern "C" void onStopSignal(int) { g_stop = 1; }

void installStopHandlers() {
  struct sigaction sa {};
  sa.sa_handler = onStopSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

bool stopping() { return g_stop != 0; }

// Sleeps up to `ms`, waking early on SIGINT/SIGTERM.
void nap(int ms) {
  for (int slept = 0; slept < ms && !stopping(); slept += 20) {
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min(20, ms - slept)));
  }
}

// The first idle pause after events were applied: writers that were active a
// moment ago are likely to write again, so the relay looks again soon and
// doubles the pause on every idle poll up to --poll-ms. Under steady writes a
// change waits about as long as the gap between changes rather than a whole
// --poll-ms; an idle relay settles at --poll-ms after a few polls. (Plain
// polling, unlike LISTEN/NOTIFY: it costs the writers nothing and works
// through PgBouncer's transaction pooling.)
constexpr int kFirstIdleMs = 5;

// A lost connection (or a server that went away) is retried; anything else
// (bad event, missing cursor, another relay) ends the relay.
bool reconnectable(const Error& e, const relay::Relay& r) {
  return e.kind() == "connection_lost" || e.kind() == "commit_in_doubt" ||
         e.kind() == "connection_failed" || e.sqlstate().rfind("08", 0) == 0 ||
         e.sqlstate().rfind("57P", 0) == 0 || !r.connected();
}

Outcome runRelay(Context& ctx, const RelayArgs& args) {
  plan::Plan plan = loadPlan(ctx);
  const std::string dsn = resolveDsn(ctx, plan);
  std::vector<std::string> consumers = relay::consumers(plan);
  if (consumers.empty()) {
    throw Error::usage("no_projections", "the plan has no [[projection]]: nothing to relay",
                       "declare [[projection]] entries (docs/steps/projections.md)");
  }
  if (!args.consumer.empty()) {
    if (std::find(consumers.begin(), consumers.end(), args.consumer) == consumers.end()) {
      throw Error::usage(
          "unknown_consumer",
          fmt::format("--consumer {}: no [[projection]] has this consumer (known: {})",
                      args.consumer, util::join(consumers, ", ")),
          "dbsplit relay --consumer " + consumers.front());
    }
    consumers = {args.consumer};
  }
  std::unique_ptr<journal::Journal> journal;
  if (journal::Journal::exists(plan.migration.journal)) {
    journal = journal::Journal::open(plan.migration.journal, journal::Journal::Mode::kReadWrite);
  }
  std::vector<relay::ProjectionSpec> all;
  {
    pg::ConnectOptions o;
    o.dsn = dsn;
    o.application_name = "dbsplit/" + plan.migration.name + "/relay";
    o.read_only = true;
    auto catalog = pg::Session::connect(o);
    all = relay::resolveProjections(plan, *catalog, dsn);
  }
  installStopHandlers();
  std::vector<std::unique_ptr<relay::Relay>> relays;
  for (const std::string& c : consumers) {
    std::vector<relay::ProjectionSpec> mine;
    for (const auto& p : all) {
      if (p.consumer == c) mine.push_back(p);
    }
    relay::RelayOptions o;
    o.main_dsn = dsn;
    o.migration = plan.migration.name;
    o.consumer = c;
    o.batch = args.batch;
    o.skip_events = {args.skip.begin(), args.skip.end()};
    o.journal = journal.get();
    o.stop = stopping;
    relays.push_back(std::make_unique<relay::Relay>(std::move(mine), o, ctx.out));
    relays.back()->connect();
  }
  if (journal) {
    for (const std::string& id : args.skip) {
      journal::EventRecord rec;
      rec.kind = "relay_skip_requested";
      rec.step = "projections";
      rec.json = nlohmann::json{{"event", "relay_skip_requested"}, {"id", id}}.dump();
      journal->logEvent(rec);
    }
  }

  // --once: catch up past the moment the relay started.
  std::vector<relay::Relay::Moment> until;
  if (args.once) {
    for (auto& r : relays) until.push_back(r->moment());
  }
  int backoff_ms = 100;
  int idle_ms = std::min(kFirstIdleMs, args.poll_ms);
  for (;;) {
    if (stopping()) break;
    std::int64_t applied = 0;
    bool all_caught_up = true;
    for (size_t i = 0; i < relays.size(); ++i) {
      auto& r = relays[i];
      try {
        if (!r->connected()) r->connect();
        applied += r->poll();
        if (args.once) all_caught_up = all_caught_up && r->covers(until[i]);
        backoff_ms = 100;
      } catch (const Error& e) {
        if (args.once || !reconnectable(e, *r)) throw;
        ctx.out.warn(fmt::format("relay: {}; reconnecting in {} ms", e.what(), backoff_ms));
        r->disconnect();
        nap(backoff_ms);
        backoff_ms = std::min(backoff_ms * 2, 5000);
        all_caught_up = false;
      }
    }
    if (args.once && all_caught_up) break;
    if (applied > 0) {
      idle_ms = std::min(kFirstIdleMs, args.poll_ms);
    } else if (args.once) {
      nap(20);
    } else {
      nap(idle_ms);
      idle_ms = std::min(idle_ms * 2, args.poll_ms);
    }
  }
  std::int64_t total = 0;
  for (auto& r : relays) total += r->appliedTotal();
  ctx.out.event({{"event", "relay_stop"},
                 {"applied", total},
                 {"reason", stopping() ? "signal" : "caught up"}},
                fmt::format("relay stopped ({}): {} event(s) applied",
                            stopping() ? "signal" : "caught up", total));
  return {ExitCode::kOk, {"dbsplit status"}, {{"applied", total}}};
}

}  // namespace

void addRelayCommand(CLI::App& app, AppState& state) {
  auto args = std::make_shared<RelayArgs>();
  CLI::App* cmd =
      addCommand(app, state, "relay", "Move outbox events into the consumers' projections",
                 "  Applies the events of every outbox a consumer's [[projection]]s read to\n"
                 "  those projections, in commit-safe batches: a batch is the events of the\n"
                 "  transactions that ended between two snapshots of the source, applied in\n"
                 "  seq order as multi-row upserts and deletes in one transaction on the\n"
                 "  consumer side together with the cursor (<consumer>.dbsplit_cursor), so every\n"
                 "  event takes effect exactly once, also across databases. Runs until SIGINT\n"
                 "  or SIGTERM (finishing the batch in hand) and reconnects after a lost\n"
                 "  connection; --once stops when caught up with the moment it started. One\n"
                 "  relay per consumer at a time (advisory lock; exit 4 when taken). An event\n"
                 "  whose payload does not fit its projection stops the relay before its batch\n"
                 "  is applied (exit 1, naming the event); --skip-event ID passes over it,\n"
                 "  recorded in the journal. Needs `dbsplit run projections` first.",
                 "  dbsplit relay\n"
                 "  dbsplit relay --once --consumer fulfillment --json\n"
                 "  dbsplit relay --consumer fulfillment --skip-event 6f1c...-...",
                 [args](Context& ctx) -> Outcome { return runRelay(ctx, *args); });
  cmd->add_flag("--once", args->once, "Catch up with the moment of start, then exit");
  cmd->add_option("--consumer", args->consumer, "Only this consumer (default: every one)")
      ->type_name("C");
  cmd->add_option("--batch", args->batch,
                  "Events per consumer transaction (whole source transactions; default 10000)")
      ->type_name("N")
      ->check(CLI::Range(1, 10000000));
  cmd->add_option("--poll-ms", args->poll_ms,
                  "Longest pause when idle, in ms (default 200); after events the relay "
                  "looks again within 5 ms, doubling the pause per idle poll up to this")
      ->type_name("MS")
      ->check(CLI::Range(1, 60000));
  cmd->add_option("--skip-event", args->skip, "Never apply this event id (recorded in the journal)")
      ->type_name("ID");
}

}  // namespace dbsplit::cli
