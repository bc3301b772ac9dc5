// Registration of the replication movers with the engine.
#include "replication/movers.h"

#include <mutex>

namespace dbsplit::replication {

void registerMovers() {
  static std::once_flag once;
  std::call_once(once, [] {
    engine::registerMover("split.create_database", createDatabase);
    engine::registerMover("split.copy_schema", copySchema);
    engine::registerMover("split.subscribe", subscribe, unsubscribe);
    engine::registerMover("split.catchup", catchUp);
  });
}

}  // namespace dbsplit::replication
