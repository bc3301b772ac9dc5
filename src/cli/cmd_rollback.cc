// dbsplit rollback STEP
#include "cli/app.h"
#include "cli/common.h"

namespace dbsplit::cli {

void addRollbackCommand(CLI::App& app, AppState& state) {
  auto step = std::make_shared<std::string>();
  CLI::App* cmd = addCommand(
      app, state, "rollback", "Reverse a step exactly",
      "  Runs the inverse of every applied action of STEP in reverse order, each in\n"
      "  its own transaction with its marker removed in that transaction, so that\n"
      "  `pg_dump --schema-only` afterwards is identical to before the step. Refuses\n"
      "  while a later step is applied (roll that back first) or when an applied\n"
      "  action is irreversible. The inverse SQL is the one journaled when the step\n"
      "  ran, so rollback works even if the plan changed since.",
      "  dbsplit rollback ownership\n"
      "  dbsplit rollback revoke --yes --json",
      [step](Context& ctx) -> Outcome { return openSession(ctx)->runner->rollback(*step); });
  cmd->add_option("step", *step, "The step to reverse")->required()->type_name("STEP");
}

}  // namespace dbsplit::cli
