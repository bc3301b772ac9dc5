// The catalogue step: checks sources when planning, collects when recording.
#include "steps/catalogue/catalogue.h"

#include <algorithm>

#include "catalogue/collector.h"
#include "catalogue/readers.h"
#include "catalogue/source.h"

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
