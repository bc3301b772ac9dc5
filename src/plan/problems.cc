// Problem collection and the one error an invalid plan turns into.
#include "plan/problems.h"

#include <algorithm>

#include "fmt/format.h"
#include "util/error.h"

namespace dbsplit::plan {

void Problems::add(const SourcePos& pos, std::string message, const std::string& suggestion) {
  if (!suggestion.empty()) message += fmt::format(" (did you mean \"{}\"?)", suggestion);
  problems_.push_back({pos, std::move(message)});
}

std::vector<std::string> Problems::lines() const {
  std::vector<Problem> sorted = problems_;
  std::stable_sort(sorted.begin(), sorted.end(), [](const Problem& a, const Problem& b) {
    return a.pos.line != b.pos.line ? a.pos.line < b.pos.line : a.pos.column < b.pos.column;
  });
  std::vector<std::string> out;
  for (const auto& p : sorted) {
    std::string line = p.pos.str() + ": " + p.message;
    // Two checks can reach the same conclusion about one value; say it once.
    if (std::find(out.begin(), out.end(), line) == out.end()) out.push_back(std::move(line));
  }
  return out;
}

void throwIfAny(const Problems& problems, const std::string& file) {
  if (problems.empty()) return;
  std::vector<std::string> lines = problems.lines();
  throw Error::usage(
      "plan_invalid",
      fmt::format("{}: {} problem{} in the plan", file, lines.size(), lines.size() == 1 ? "" : "s"),
      "fix them, then run `dbsplit check`")
      .withDetails(std::move(lines));
}

}  // namespace dbsplit::plan
