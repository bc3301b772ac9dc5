#include "engine/fault.h"

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>

namespace dbsplit::engine {

void faultPoint(const std::string& action_id, FaultPoint point) {
  static const char* spec = std::getenv("DBSPLIT_FAULT");
  if (!spec || !*spec) return;
  std::string expected = action_id + (point == FaultPoint::kBefore ? ":before" : ":after");
  if (expected != spec) return;
  std::cout << std::flush;
  std::cerr << "DBSPLIT_FAULT: killing the process at " << expected << std::endl;
  ::kill(::getpid(), SIGKILL);
  std::_Exit(137);  // not reached
}

}  // namespace dbsplit::engine
