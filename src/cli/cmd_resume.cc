// dbsplit resume
#include "cli/app.h"
#include "cli/common.h"

namespace dbsplit::cli {

void addResumeCommand(CLI::App& app, AppState& state) {
  addCommand(app, state, "resume", "Finish what a crash, kill or lost connection interrupted",
             "  Finds the step whose run or rollback did not finish, reconciles the journal\n"
             "  with the database (an action whose marker is in dbsplit.applied committed;\n"
             "  a non-transactional action is checked with its verify query), then carries\n"
             "  on in the same direction with the SQL journaled at the start. Safe to run\n"
             "  any number of times; with nothing interrupted it says so and exits 0.",
             "  dbsplit resume\n"
             "  dbsplit status && dbsplit resume --json",
             [](Context& ctx) -> Outcome { return openSession(ctx)->runner->resume(); });
}

}  // namespace dbsplit::cli
