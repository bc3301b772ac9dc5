// What a command (or an engine operation) ends with: an exit code, the next
// commands the user may want, and extra keys for the final `result` event.
#pragma once

#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "util/error.h"

namespace dbsplit::util {

struct Outcome {
  ExitCode code = ExitCode::kOk;
  std::vector<std::string> next_steps;
  nlohmann::json extra = nlohmann::json::object();
};

}  // namespace dbsplit::util
