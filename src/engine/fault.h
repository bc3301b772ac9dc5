// Fault injection for tests and drills (DESIGN §5.7):
//   DBSPLIT_FAULT=<action_id>:before   dies after the journal records `started`,
//                                      before the action's SQL runs;
//   DBSPLIT_FAULT=<action_id>:after    dies after the action committed, before
//                                      the journal records the outcome.
// The process dies by SIGKILL, as a crash or `kill -9` would, in release builds
// too. It applies to rollbacks as well (the inverse of that action).
#pragma once

#include <string>

namespace dbsplit::engine {

enum class FaultPoint { kBefore, kAfter };

// Dies here when DBSPLIT_FAULT names this action and point.
void faultPoint(const std::string& action_id, FaultPoint point);

}  // namespace dbsplit::engine
