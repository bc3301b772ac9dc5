// The catalogue step: checks sources when planning, collects when recording.
#include "steps/catalogue/catalogue.h"

#include <algorithm>

#include "catalogue/collector.h"
#include "catalogue/readers.h"
#include "catalogue/source.h"
#include "fmt/format.h"
#include "relations/admin.h"
#include "sql/quote.h"

namespace dbsplit::steps {
namespace {

class CatalogueStep : public engine::Step {
 public:
  CatalogueStep()
      : Step("catalogue",
             "find who reads and writes every table (stores a snapshot; changes nothing)") {}
  // The services' roles and the sources: what the snapshot depends on.
  nlohmann::json inputs(const plan::Plan& plan) const override;
  // Checks the sources (syntax, files readable, log formats: exit 2; a missing
  // pg_stat_statements: exit 3) so that bad input stops the run before the
  // journal records anything.
  std::vector<engine::Action> plan(const engine::PlanContext& ctx) const override;
  // Reading other roles' statements from pg_stat_statements needs a superuser
  // or pg_read_all_stats: without it every other role's query text is hidden.
  std::vector<engine::Gate> gates(const engine::PlanContext& ctx) const override;
  std::vector<engine::StepRecordData> records(const engine::PlanContext& ctx) const override;
};

}  // namespace

nlohmann::json CatalogueStep::inputs(const plan::Plan& plan) const {
  nlohmann::json services = nlohmann::json::array();
  for (const auto& s : plan.services) {
    std::vector<std::string> roles = s.roles;
    std::sort(roles.begin(), roles.end());
    services.push_back({{"name", s.name}, {"roles", roles}});
  }
  return {{"services", services}, {"sources", plan.catalogue.sources}};
}

std::vector<engine::Action> CatalogueStep::plan(const engine::PlanContext& ctx) const {
  auto sources = catalogue::chooseSources({}, &ctx.plan);
  catalogue::checkSources(sources);
  for (const auto& s : sources) {
    if (s.kind == catalogue::Source::Kind::kPgStatStatements) {
      catalogue::pgStatStatementsView(ctx.catalog);  // exit 3 now, not after the journal
    }
  }
  return {};
}

std::vector<engine::Gate> CatalogueStep::gates(const engine::PlanContext& ctx) const {
  auto sources = catalogue::chooseSources({}, &ctx.plan);
  bool pgss = std::any_of(sources.begin(), sources.end(), [](const catalogue::Source& s) {
    return s.kind == catalogue::Source::Kind::kPgStatStatements;
  });
  if (!pgss) return {};
  relations::AdminRole admin = relations::readAdminRole(ctx.catalog);
  if (admin.read_all_stats) {
    return {{"read_all_stats", true,
             admin.superuser ? "connected as a superuser: it reads every role's statements"
                             : fmt::format("{} is a member of pg_read_all_stats: it reads every "
                                           "role's statements",
                                           admin.name)}};
  }
  return {{"read_all_stats", false,
           fmt::format("{} is not a member of pg_read_all_stats: pg_stat_statements hides the "
                       "text of every other role's statements from it, so the catalogue would "
                       "see nothing the services ran; GRANT pg_read_all_stats TO {}; (as a "
                       "role that may: the provider's admin role has it with ADMIN OPTION)",
                       admin.name, sql::quoteIdent(admin.name))}};
}

std::vector<engine::StepRecordData> CatalogueStep::records(const engine::PlanContext& ctx) const {
  auto sources = catalogue::chooseSources({}, &ctx.plan);
  catalogue::checkSources(sources);
  catalogue::Snapshot snap = catalogue::collect(sources, &ctx.plan, ctx.catalog);
  return {{"catalogue", snap.toJson().dump()}};
}

const engine::Step* catalogueStep() {
  static const CatalogueStep step;
  return &step;
}

}  // namespace dbsplit::steps
