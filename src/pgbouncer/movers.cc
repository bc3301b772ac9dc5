// The PgBouncer movers (movers.h).
#include "pgbouncer/movers.h"

#include <mutex>
#include <set>

#include "engine/fault.h"
#include "fmt/format.h"
#include "pgbouncer/console.h"
#include "util/error.h"
#include "util/text.h"
#include "util/time.h"

namespace dbsplit::pgbouncer {
namespace {

struct PoolArgs {
  std::string service;
  std::vector<std::string> pools;  // named in the plan
  std::string database;            // the source database
  std::string target;              // the new database's name
};

PoolArgs parsePoolArgs(const engine::MoverContext& ctx) {
  nlohmann::json j = nlohmann::json::parse(ctx.action.mover_args);
  PoolArgs a;
  a.service = j.at("service").get<std::string>();
  a.pools = j.value("pools", std::vector<std::string>{});
  a.database = j.at("database").get<std::string>();
  a.target = j.value("target", std::string());
  return a;
}

std::unique_ptr<Console> openConsole(const engine::MoverContext& ctx) {
  return Console::open(ctx.plan.split.pgbouncer, ctx.application_name);
}

// The pools RESUME looks at: the named ones, or those in front of either database.
std::vector<std::string> resumable(Console& console, const PoolArgs& a) {
  if (!a.pools.empty()) return a.pools;
  std::vector<std::string> out;
  for (const Pool& p : console.pools()) {
    if (p.name != "pgbouncer" && (p.database == a.database || p.database == a.target)) {
      out.push_back(p.name);
    }
  }
  return out;
}

void resumeAll(engine::MoverContext& ctx, const char* why) {
  PoolArgs a = parsePoolArgs(ctx);
  auto console = openConsole(ctx);
  std::vector<std::string> resumed;
  std::set<std::string> paused;
  for (const Pool& p : console->pools()) {
    if (p.paused) paused.insert(p.name);
  }
  for (const std::string& pool : resumable(*console, a)) {
    if (!paused.count(pool)) continue;
    console->resume(pool);
    resumed.push_back(pool);
  }
  ctx.out.event(
      {{"event", "pgbouncer_resume"}, {"service", a.service}, {"pools", resumed}, {"why", why}},
      resumed.empty() ? fmt::format("  pgbouncer: no pool of {} is paused", a.service)
                      : fmt::format("  pgbouncer: RESUME {} ({}): held transactions go on",
                                    util::join(resumed, ", "), why));
}

}  // namespace

void reconnectPools(engine::MoverContext& ctx) {
  const std::string database =
      nlohmann::json::parse(ctx.action.mover_args).at("database").get<std::string>();
  auto console = openConsole(ctx);
  std::vector<std::string> pools = console->poolsFor(database);
  std::vector<std::string> sent, skipped;
  for (const std::string& pool : pools) {
    // Never while the pool logs a server connection in: see Console::reconnect.
    if (console->reconnect(pool, kLoginQuietBound, ctx.check_alive)) {
      sent.push_back(pool);
    } else {
      skipped.push_back(pool);
    }
  }
  std::vector<std::string> lines;
  if (pools.empty())
    lines.push_back(fmt::format("pgbouncer: no pool serves database {}", database));
  if (!sent.empty()) {
    lines.push_back(fmt::format(
        "pgbouncer: RECONNECT {} (server connections are replaced as they are released)",
        util::join(sent, ", ")));
  }
  if (!skipped.empty()) {
    lines.push_back(fmt::format(
        "pgbouncer: no RECONNECT of {}: it was logging server connections in throughout {} ms, "
        "and a RECONNECT then turns clients away for server_login_retry. Its old server "
        "connections serve on through the views until server_lifetime and `split finalize` "
        "waits for them; to retire them sooner, send RECONNECT on the console when SHOW POOLS "
        "shows sv_login 0",
        util::join(skipped, ", "), kLoginQuietBound.count()));
  }
  ctx.out.event({{"event", "pgbouncer_reconnect"},
                 {"database", database},
                 {"pools", sent},
                 {"skipped", skipped}},
                util::join(lines, "\n"));
}

void pausePools(engine::MoverContext& ctx) {
  PoolArgs a = parsePoolArgs(ctx);
  auto console = openConsole(ctx);
  std::vector<Pool> all = console->pools();
  std::vector<std::string> pools = a.pools.empty() ? console->poolsFor(a.database) : a.pools;
  for (const std::string& name : a.pools) {
    bool known = false;
    for (const Pool& p : all) known = known || p.name == name;
    if (!known) {
      throw Error::precondition(
          "pgbouncer_pool_missing",
          fmt::format("PgBouncer has no pool named {} (service {}'s pgbouncer_pool)", name,
                      a.service),
          "add it to PgBouncer's [databases] and RELOAD, or fix [[service]] pgbouncer_pool");
    }
  }
  auto start = std::chrono::steady_clock::now();
  std::vector<std::string> done;
  try {
    for (const std::string& pool : pools) {
      bool paused = false;
      for (const Pool& p : all) paused = paused || (p.name == pool && p.paused);
      // A pool paused already was paused by an earlier, interrupted run.
      if (!paused) console->pause(pool, kPauseBound);
      done.push_back(pool);
      if (ctx.check_alive) ctx.check_alive();
    }
  } catch (const Error&) {
    // Never leave a pool paused behind a failure.
    for (const std::string& pool : done) console->resume(pool);
    throw;
  }
  // Testing aid: dies with the pools paused and the action's marker not
  // written, which only the undo's look at SHOW DATABASES can tell.
  engine::faultPoint(ctx.action.id + "#1", engine::FaultPoint::kAfter);
  ctx.out.event(
      {{"event", "pgbouncer_pause"},
       {"service", a.service},
       {"pools", pools},
       {"ms", util::millisSince(start)}},
      pools.empty()
          ? fmt::format("  pgbouncer: no pool serves database {}: nothing to pause", a.database)
          : fmt::format("  pgbouncer: PAUSE {} in {} ms: new transactions wait in "
                        "PgBouncer until the cutover is over",
                        util::join(pools, ", "), util::millisSince(start)));
}

void resumePools(engine::MoverContext& ctx) { resumeAll(ctx, "cutover done"); }

void registerMovers() {
  static std::once_flag once;
  std::call_once(once, [] {
    engine::registerMover("split.pgbouncer_reconnect", reconnectPools);
    engine::registerMover("split.pgbouncer_pause", pausePools,
                          [](engine::MoverContext& ctx) { resumeAll(ctx, "rolled back"); });
    engine::registerMover("split.pgbouncer_resume", resumePools);
  });
}

}  // namespace dbsplit::pgbouncer
