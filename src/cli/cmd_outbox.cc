// placeholder: the `outbox` command lands with its step (commands appear only when they work).
#include "cli/app.h"

namespace dbsplit::cli {
void addOutboxCommand(CLI::App&, AppState&) {}
}  // namespace dbsplit::cli
