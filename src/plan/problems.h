// Collects every problem found in a plan (private to src/plan), so that one
// run of `dbsplit check` shows all of them instead of the first only.
#pragma once

#include <string>
#include <vector>

#include "plan/plan.h"

namespace dbsplit::plan {

class Problems {
 public:
  // `suggestion`, when not empty, is appended as ` (did you mean "x"?)`.
  void add(const SourcePos& pos, std::string message, const std::string& suggestion = {});

  bool empty() const { return problems_.empty(); }
  size_t size() const { return problems_.size(); }

  // "file:line:column: message" lines, sorted by position (stable for ties).
  std::vector<std::string> lines() const;

 private:
  struct Problem {
    SourcePos pos;
    std::string message;
  };
  std::vector<Problem> problems_;
};

// Throws Error::usage("plan_invalid") listing `problems` when there are any.
void throwIfAny(const Problems& problems, const std::string& file);

}  // namespace dbsplit::plan
