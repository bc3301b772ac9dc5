// TEMPORARY: registration stubs for commands not written yet. Each command's
// own file replaces its stub; this file is deleted when the last one lands.
#include "cli/app.h"

namespace dbsplit::cli {
void addCheckCommand(CLI::App&, AppState&) {}
void addPlanCommand(CLI::App&, AppState&) {}
void addStatusCommand(CLI::App&, AppState&) {}
void addRunCommand(CLI::App&, AppState&) {}
void addRollbackCommand(CLI::App&, AppState&) {}
void addResumeCommand(CLI::App&, AppState&) {}
void addLogCommand(CLI::App&, AppState&) {}
void addDemoCommand(CLI::App&, AppState&) {}
}  // namespace dbsplit::cli
