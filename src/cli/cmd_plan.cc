// dbsplit plan [STEP]
#include "cli/app.h"
#include "cli/common.h"

namespace dbsplit::cli {

void addPlanCommand(CLI::App& app, AppState& state) {
  auto step = std::make_shared<std::string>();
  CLI::App* cmd = addCommand(
      app, state, "plan", "What would run: each action's SQL, inverse, lock and status",
      "  Shows the actions of STEP (or of every step): forward SQL, inverse SQL, the\n"
      "  strongest lock taken, and the action's status. Steps already run show the\n"
      "  actions journaled when they ran; others are planned now against the live\n"
      "  catalog over a read-only session. Changes nothing.",
      "  dbsplit plan ownership\n"
      "  dbsplit plan --json | jq -r 'select(.event == \"action\") | .forward'",
      [step](Context& ctx) -> Outcome { return openSession(ctx)->runner->showPlan(*step); });
  cmd->add_option("step", *step, "Only this step")->type_name("STEP");
}

}  // namespace dbsplit::cli
