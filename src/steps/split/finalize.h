// `dbsplit split finalize`: the one irreversible command (DESIGN §1). After a
// database-mode split whose cutover is done, it drops the subscription in each
// service's new database, the replication slot and publication on the source,
// and the moved tables from the source. Every action has an empty inverse, so
// the engine journals them as irreversible and asks first (or needs --yes,
// else exit 5). A standalone step: outside the six-step order, never run by
// `run --next` or `run --all`.
#pragma once

#include "engine/step.h"

namespace dbsplit::steps {

class SplitFinalizeStep : public engine::Step {
 public:
  std::string name() const override { return "finalize"; }
  std::string summary() const override {
    return "after a database-mode cutover: drop the source copies (irreversible)";
  }
  nlohmann::json inputs(const plan::Plan& plan) const override;
  std::vector<engine::Gate> gates(const engine::PlanContext& ctx) const override;
  std::vector<engine::Action> plan(const engine::PlanContext& ctx) const override;
  bool standalone() const override { return true; }
};

const engine::Step* splitFinalizeStep();

}  // namespace dbsplit::steps
