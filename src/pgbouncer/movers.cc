// The PgBouncer movers (movers.h).
#include "pgbouncer/movers.h"

#include <mutex>

#include "fmt/format.h"
#include "pgbouncer/console.h"
#include "util/text.h"

namespace dbsplit::pgbouncer {

void reconnectPools(engine::MoverContext& ctx) {
  const std::string database =
      nlohmann::json::parse(ctx.action.mover_args).at("database").get<std::string>();
  auto console = Console::open(ctx.plan.split.pgbouncer, ctx.application_name);
  std::vector<std::string> pools = console->poolsFor(database);
  for (const std::string& pool : pools) console->reconnect(pool);
  ctx.out.event({{"event", "pgbouncer_reconnect"}, {"database", database}, {"pools", pools}},
                pools.empty()
                    ? fmt::format("pgbouncer: no pool serves database {}", database)
                    : fmt::format("pgbouncer: RECONNECT {} (server connections are replaced as "
                                  "they are released)",
                                  util::join(pools, ", ")));
}

void registerMovers() {
  static std::once_flag once;
  std::call_once(once, [] { engine::registerMover("split.pgbouncer_reconnect", reconnectPools); });
}

}  // namespace dbsplit::pgbouncer
