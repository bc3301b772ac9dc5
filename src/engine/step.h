// A step is a pure planner (DESIGN §2, STYLE "Architecture"): from the validated
// plan and the live catalog (a read-only session) it returns the ordered list of
// actions. It never changes anything and never knows whether it is being
// dry-run, rehearsed or applied: the engine decides that.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/action.h"
#include "nlohmann/json.hpp"
#include "pg/session.h"
#include "plan/plan.h"

namespace dbsplit::engine {

// A named check that must pass before a step may change anything.
struct Gate {
  std::string name;      // "compare_clean", "deprecation_window", ...
  bool passed = false;
  std::string evidence;  // what was looked at, in one line
};

class Step {
 public:
  virtual ~Step() = default;
  virtual std::string name() const = 0;
  virtual std::string summary() const = 0;

  // The part of the plan this step's actions come from. Its hash is journaled
  // when the step runs; a different hash later means the plan changed under an
  // applied step (drift, exit 6). Default: the whole canonical plan.
  virtual nlohmann::json inputs(const plan::Plan& plan) const { return plan.canonical(); }

  // Checked before apply and rehearse; any failed gate stops the run (exit 3)
  // before anything changes.
  virtual std::vector<Gate> gates(const plan::Plan&, pg::Session&) const { return {}; }

  // REQUIRES: `catalog` is a read-only session.
  virtual std::vector<Action> plan(const plan::Plan& plan, pg::Session& catalog) const = 0;

  // Standalone steps sit outside the six-step order (the engine's test step).
  virtual bool standalone() const { return false; }
};

using StepList = std::vector<const Step*>;

}  // namespace dbsplit::engine
