#include "replication/endpoints.h"

#include "sql/quote.h"

namespace dbsplit::replication {

MoverArgs parseArgs(const engine::MoverContext& ctx) {
  nlohmann::json j = nlohmann::json::parse(ctx.action.mover_args);
  return {j.at("service").get<std::string>(), j.at("schema").get<std::string>(),
          j.at("name").get<std::string>()};
}

namespace {
std::unique_ptr<pg::Session> connect(const engine::MoverContext& ctx, const std::string& dsn) {
  pg::ConnectOptions o;
  o.dsn = dsn;
  o.application_name = ctx.application_name.empty()
                           ? "dbsplit/" + ctx.plan.migration.name + "/split"
                           : ctx.application_name;
  return pg::Session::connect(o);
}
}  // namespace

std::unique_ptr<pg::Session> connectSource(const engine::MoverContext& ctx) {
  return connect(ctx, ctx.main_dsn);
}
std::unique_ptr<pg::Session> connectTarget(const engine::MoverContext& ctx) {
  return connect(ctx, ctx.target_dsn);
}

std::vector<std::string> publishedTables(pg::Session& source, const std::string& publication) {
  std::vector<std::string> out;
  for (const auto& row :
       source.execParams("SELECT schemaname, tablename FROM pg_catalog.pg_publication_tables "
                         "WHERE pubname = $1 ORDER BY 1, 2",
                         publication)) {
    out.push_back(sql::quoteQualified(row[0].c_str(), row[1].c_str()));
  }
  return out;
}

}  // namespace dbsplit::replication
