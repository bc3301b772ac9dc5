#include "replication/endpoints.h"

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

}  // namespace dbsplit::replication
