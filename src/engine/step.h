// A step is a pure planner (DESIGN §2, STYLE "Architecture"): from the validated
// plan and the live catalog (a read-only session) it returns the ordered list of
// actions. It never changes anything and never knows whether it is being
// dry-run, rehearsed or applied: the engine decides that.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/action.h"
#include "nlohmann/json.hpp"
#include "pg/session.h"
#include "plan/plan.h"

namespace dbsplit::engine {

// What a planner may look at: the validated plan, the live catalog through a
// read-only session, and the journal read-only (catalogue snapshots, compare
// results). `journal` is null before anything was ever journaled.
struct PlanContext {
  const plan::Plan& plan;
  pg::Session& catalog;
  const journal::Journal* journal;
};

// Data a step keeps in the journal when it is applied (the catalogue's
// snapshot): the engine stores it once the step's actions are applied and
// deletes it when the step is rolled back.
struct StepRecordData {
  std::string kind;  // snapshot kind, e.g. "catalogue"
  std::string body;  // JSON
};

// A named check that must pass before a step may change anything.
struct Gate {
  std::string name;  // "compare_clean", "deprecation_window", ...
  bool passed = false;
  std::string evidence;  // what was looked at, in one line
};

class Step {
 public:
  virtual ~Step() = default;
  // What the plan and the command line call the step, and one line on what
  // it does: data every step has, given to the constructor.
  virtual std::string name() const { return name_; }
  virtual std::string summary() const { return summary_; }

  // The part of the plan this step's actions come from. Its hash is journaled
  // when the step runs; a different hash later means the plan changed under an
  // applied step (drift, exit 6). Default: the whole canonical plan.
  virtual nlohmann::json inputs(const plan::Plan& plan) const { return plan.canonical(); }

  // Checked before apply and rehearse; any failed gate stops the run (exit 3)
  // before anything changes.
  virtual std::vector<Gate> gates(const PlanContext&) const { return {}; }

  // REQUIRES: `ctx.catalog` is a read-only session.
  virtual std::vector<Action> plan(const PlanContext& ctx) const = 0;

  // Journal records the step leaves behind when applied (see StepRecordData).
  virtual std::vector<StepRecordData> records(const PlanContext&) const { return {}; }

  // What rolling this step back destroys besides schema objects (data, events
  // not yet consumed), in a few words; empty when nothing. `applied` are the
  // ids of the step's actions the journal has as applied. When not empty,
  // `rollback` asks for confirmation (or needs --yes).
  virtual std::string rollbackDestroys(const std::vector<std::string>& applied) const {
    (void)applied;
    return {};
  }

  // Standalone steps sit outside the six-step order (the engine's test step).
  virtual bool standalone() const { return false; }

 protected:
  Step() = default;
  Step(std::string name, std::string summary)
      : name_(std::move(name)), summary_(std::move(summary)) {}

 private:
  std::string name_;
  std::string summary_;
};

using StepList = std::vector<const Step*>;

}  // namespace dbsplit::engine
