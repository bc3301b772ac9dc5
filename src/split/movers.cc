// Registration of the split movers with the engine.
#include "split/movers.h"

#include <mutex>

namespace dbsplit::split {

void registerMovers() {
  static std::once_flag once;
  std::call_once(once, [] {
    engine::registerMover("split.copy_schema", copySchema);
    engine::registerMover("split.subscribe", subscribe);
    engine::registerMover("split.catchup", catchUp);
    engine::registerMover("split.cutover", cutover);
  });
}

}  // namespace dbsplit::split
