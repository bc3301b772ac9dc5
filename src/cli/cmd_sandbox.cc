// placeholder: replaced by the sandbox command
#include "cli/app.h"
namespace dbsplit::cli {
void addSandboxCommand(CLI::App&, AppState&) {}
}  // namespace dbsplit::cli
