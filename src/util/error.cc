#include "util/error.h"

namespace dbsplit {

Error::Error(ExitCode code, std::string kind, std::string message, std::string hint,
             std::string sqlstate)
    : std::runtime_error(std::move(message)),
      code_(code),
      kind_(std::move(kind)),
      hint_(std::move(hint)),
      sqlstate_(std::move(sqlstate)) {}

Error& Error::withDetails(std::vector<std::string> details) {
  details_ = std::move(details);
  return *this;
}

Error Error::usage(std::string kind, std::string message, std::string hint) {
  return Error(ExitCode::kUsage, std::move(kind), std::move(message), std::move(hint));
}
Error Error::precondition(std::string kind, std::string message, std::string hint) {
  return Error(ExitCode::kPrecondition, std::move(kind), std::move(message), std::move(hint));
}
Error Error::stepFailed(std::string kind, std::string message, std::string hint,
                        std::string sqlstate) {
  return Error(ExitCode::kStepFailed, std::move(kind), std::move(message), std::move(hint),
               std::move(sqlstate));
}
Error Error::drift(std::string kind, std::string message, std::string hint) {
  return Error(ExitCode::kDrift, std::move(kind), std::move(message), std::move(hint));
}

}  // namespace dbsplit
