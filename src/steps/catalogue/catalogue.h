// `catalogue` (step 1, DESIGN §6): finds every table access from the plan's
// [step.catalogue] sources (default pg_stat_statements). It plans no SQL action
// (it changes nothing in PostgreSQL); its snapshot is the step's journal record,
// stored when the step is applied and deleted when it is rolled back.
#pragma once

#include "engine/step.h"

namespace dbsplit::steps {

class CatalogueStep : public engine::Step {
 public:
  std::string name() const override { return "catalogue"; }
  std::string summary() const override {
    return "find who reads and writes every table (stores a snapshot; changes nothing)";
  }
  // The services' roles and the sources: what the snapshot depends on.
  nlohmann::json inputs(const plan::Plan& plan) const override;
  // Checks the sources (syntax, files readable, log formats: exit 2; a missing
  // pg_stat_statements: exit 3) so that bad input stops the run before the
  // journal records anything.
  std::vector<engine::Action> plan(const engine::PlanContext& ctx) const override;
  std::vector<engine::StepRecordData> records(const engine::PlanContext& ctx) const override;
};

// The registry's instance.
const engine::Step* catalogueStep();

}  // namespace dbsplit::steps
