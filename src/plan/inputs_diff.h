// What changed in a step's inputs since it was applied, named as plan entries.
// A step's inputs (engine::Step::inputs) are canonical JSON built from the plan:
// sections such as "services", "tables", "waivers", "events", "projections"
// whose items each come from one plan entry, plus settings. The journal keeps
// the inputs a step was applied with; diffing them against the plan's now tells
// a DBA which entries were added, removed or changed, and where the current
// ones are in the plan file. Pure: no I/O.
#pragma once

#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "plan/plan.h"

namespace dbsplit::plan {

struct InputChange {
  std::string change;  // "added" | "removed" | "changed"
  std::string entry;   // "[[waiver]] fulfillment on public.orders", "[step.split] mode"
  std::string where;   // "file:line" of the plan's entry now; "" when removed or unknown
  std::string detail;  // changed: `owner "a" -> "b"`; else ""

  // "removed [[waiver]] fulfillment on public.orders", "changed [[table]]
  // public.orders at dbsplit.toml:12 (owner "a" -> "b")".
  std::string str() const;
  nlohmann::json toJson() const;
};

// Every difference between `before` (what the step was applied with) and
// `now` (the same step's inputs from `plan`), entries in the order of `now`
// then removed ones. `step` names the settings section ([step.<step>]).
std::vector<InputChange> diffInputs(const nlohmann::json& before, const nlohmann::json& now,
                                    const Plan& plan, const std::string& step);

}  // namespace dbsplit::plan
