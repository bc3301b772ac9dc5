// Rules every name that becomes a PostgreSQL identifier must pass (private to
// src/plan). Checked at load time because PostgreSQL would silently truncate a
// long name and the plan would then name a relation that does not exist.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace dbsplit::plan {

// NAMEDATALEN - 1 in a default PostgreSQL build.
constexpr std::size_t kMaxIdentifierBytes = 63;

// "" when `name` can be used verbatim as an identifier, else why not.
std::string identifierProblem(std::string_view name);

}  // namespace dbsplit::plan
