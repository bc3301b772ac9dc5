// split.create_database: the service's new database, created and marked as
// dbsplit's own in one mover so that the action's verify (and so resume and
// rollback) recognise only a database this migration created.
#include "fmt/format.h"
#include "replication/endpoints.h"
#include "replication/movers.h"
#include "sql/quote.h"
#include "util/error.h"
#include "util/reporter.h"

namespace dbsplit::replication {

void createDatabase(engine::MoverContext& ctx) {
  nlohmann::json args = nlohmann::json::parse(ctx.action.mover_args);
  const std::string dbname = args.at("dbname").get<std::string>();
  const std::string comment = args.at("comment").get<std::string>();
  auto source = connectSource(ctx);
  if (source->scalar("SELECT 1 FROM pg_catalog.pg_database WHERE datname = $1", dbname)) {
    // The verify query found no mark of ours on it: someone else's.
    throw Error::precondition(
        "database_taken",
        fmt::format("database {} exists and was not created by this migration", dbname),
        "if it is a leftover of this migration (a crash between CREATE DATABASE and its "
        "COMMENT), drop it by hand and `dbsplit resume`; otherwise give the service another "
        "database");
  }
  source->exec("CREATE DATABASE " + sql::quoteIdent(dbname));
  source->exec(fmt::format("COMMENT ON DATABASE {} IS {}", sql::quoteIdent(dbname),
                           sql::quoteLiteral(comment)));
  ctx.out.say(fmt::format("  created database {}", dbname));
}

}  // namespace dbsplit::replication
