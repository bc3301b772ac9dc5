// dbsplit log
#include "cli/app.h"
#include "cli/common.h"

namespace dbsplit::cli {

void addLogCommand(CLI::App& app, AppState& state) {
  auto limit = std::make_shared<int>(20);
  CLI::App* cmd = addCommand(
      app, state, "log", "The journal's history",
      "  Lists the latest runs (command, step, mode, exit code, pid, connection\n"
      "  without password) with the actions, retries and errors each recorded.\n"
      "  Reads the journal only.",
      "  dbsplit log\n"
      "  dbsplit log --limit 100 --json",
      [limit](Context& ctx) -> Outcome { return openSession(ctx)->runner->showLog(*limit); });
  cmd->add_option("--limit", *limit, "How many runs (default 20)")->check(CLI::Range(1, 100000));
}

}  // namespace dbsplit::cli
