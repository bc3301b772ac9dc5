// The one error type of dbsplit. Every layer throws dbsplit::Error; the PostgreSQL driver's and
// SQLite exceptions are caught in src/pg and src/journal and turned into it, so
// the command line can map any failure to a documented exit code (DESIGN §4).
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace dbsplit {

// Stable exit codes; scripts depend on them (docs/exit-codes.md).
enum class ExitCode : int {
  kOk = 0,
  kStepFailed = 1,    // a step failed; its open transaction rolled back
  kUsage = 2,         // bad flags or an invalid plan
  kPrecondition = 3,  // a precondition or gate is not met
  kLocked = 4,        // another run holds the lock
  kConfirm = 5,       // confirmation needed (no TTY and no --yes)
  kDrift = 6,         // plan, journal and database disagree
};

inline int toInt(ExitCode c) { return static_cast<int>(c); }

class Error : public std::runtime_error {
 public:
  // `kind` is a stable machine-readable name ("run_lock_held", "plan_invalid"),
  // `hint` says what to do next, `sqlstate` is set when PostgreSQL raised it.
  Error(ExitCode code, std::string kind, std::string message, std::string hint = {},
        std::string sqlstate = {});

  ExitCode code() const { return code_; }
  const std::string& kind() const { return kind_; }
  const std::string& hint() const { return hint_; }
  const std::string& sqlstate() const { return sqlstate_; }
  // Extra lines (one per plan diagnostic, per failed gate, ...).
  const std::vector<std::string>& details() const { return details_; }
  Error& withDetails(std::vector<std::string> details);

  static Error usage(std::string kind, std::string message, std::string hint = {});
  static Error precondition(std::string kind, std::string message, std::string hint = {});
  static Error stepFailed(std::string kind, std::string message, std::string hint = {},
                          std::string sqlstate = {});
  static Error drift(std::string kind, std::string message, std::string hint = {});

 private:
  ExitCode code_;
  std::string kind_;
  std::string hint_;
  std::string sqlstate_;
  std::vector<std::string> details_;
};

}  // namespace dbsplit
