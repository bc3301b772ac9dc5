// dbsplit plan [STEP]
#include "cli/app.h"
#include "cli/common.h"

namespace dbsplit::cli {

// `plan outbox --format debezium`, in cmd_outbox.cc.
Outcome planDebezium(Context& ctx, const std::string& step);
// `plan ownership --format markdown|json`, in cmd_plan_ownership.cc.
Outcome planOwnedData(Context& ctx, const std::string& step, const std::string& format);

void addPlanCommand(CLI::App& app, AppState& state) {
  auto step = std::make_shared<std::string>();
  auto format = std::make_shared<std::string>("text");
  CLI::App* cmd =
      addCommand(app, state, "plan", "What would run: each action's SQL, inverse, lock and status",
                 "  Shows the actions of STEP (or of every step): forward SQL, inverse SQL, the\n"
                 "  strongest lock taken, and the action's status. Steps already run show the\n"
                 "  actions journaled when they ran; others are planned now against the live\n"
                 "  catalog over a read-only session. Changes nothing.\n"
                 "  --format debezium (step outbox) prints instead one Debezium connector config\n"
                 "  per publishing service (outbox event router), for users who run Kafka.\n"
                 "  --format markdown|json (step ownership) prints instead the owned-data table:\n"
                 "  per service its tables and its consumers (projections, catalogue reads).",
                 "  dbsplit plan ownership\n"
                 "  dbsplit plan outbox --format debezium > connectors.json\n"
                 "  dbsplit plan ownership --format markdown\n"
                 "  dbsplit plan --json | jq -r 'select(.event == \"action\") | .forward'",
                 [step, format](Context& ctx) -> Outcome {
                   if (*format == "debezium") return planDebezium(ctx, *step);
                   if (*format == "markdown" || *format == "json")
                     return planOwnedData(ctx, *step, *format);
                   return openSession(ctx)->runner->showPlan(*step);
                 });
  cmd->add_option("step", *step, "Only this step")->type_name("STEP");
  cmd->add_option("--format", *format,
                  "text (default); debezium: the outbox's connector configs; markdown|json: "
                  "ownership's owned-data table")
      ->check(CLI::IsMember({"text", "debezium", "markdown", "json"}));
}

}  // namespace dbsplit::cli
