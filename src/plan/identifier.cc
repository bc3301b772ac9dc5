// Identifier rules shared by every plan name that becomes a PostgreSQL name.
#include "plan/identifier.h"

#include "fmt/format.h"

namespace dbsplit::plan {

std::string identifierProblem(std::string_view name) {
  if (name.empty()) return "an identifier must not be empty";
  if (name.find('\0') != std::string_view::npos) return "an identifier cannot hold a NUL character";
  if (name.size() > kMaxIdentifierBytes) {
    return fmt::format("identifier \"{}\" is {} bytes long; PostgreSQL keeps only {}", name,
                       name.size(), kMaxIdentifierBytes);
  }
  return {};
}

}  // namespace dbsplit::plan
