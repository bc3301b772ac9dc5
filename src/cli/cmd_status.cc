// dbsplit status
#include "cli/app.h"
#include "cli/common.h"

namespace dbsplit::cli {

void addStatusCommand(CLI::App& app, AppState& state) {
  addCommand(app, state, "status", "Journal state reconciled with the database",
             "  For every step: its status (pending, applying, applied, failed,\n"
             "  rolled_back) and how many of its actions are applied, checked against the\n"
             "  database's markers and verify queries. An interrupted step names the action\n"
             "  it stopped at and whether that action committed. Differences between the\n"
             "  journal, the plan and the database are listed as drift (exit 6). Read-only.",
             "  dbsplit status\n"
             "  dbsplit status --json | jq 'select(.event == \"step\")'",
             [](Context& ctx) -> Outcome { return openSession(ctx)->runner->status(); });
}

}  // namespace dbsplit::cli
