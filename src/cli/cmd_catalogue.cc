// placeholder: the `catalogue` command lands with its step (commands appear only when they work).
#include "cli/app.h"

namespace dbsplit::cli {
void addCatalogueCommand(CLI::App&, AppState&) {}
}  // namespace dbsplit::cli
