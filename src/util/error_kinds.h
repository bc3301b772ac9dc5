// Every error kind dbsplit reports, in one table: its stable name (the JSON
// `error` event's `kind`), the exit code it ends with, and what it means.
// docs/exit-codes.md lists the same table; tests fail when the code raises a
// kind that is not here, with another exit code, or when the docs differ.
#pragma once

#include <string_view>
#include <vector>

#include "util/error.h"

namespace dbsplit {

struct ErrorKind {
  std::string_view name;
  ExitCode code;
  std::string_view meaning;
};

// In name order.
const std::vector<ErrorKind>& errorKinds();

// nullptr for a name that is not in the table.
const ErrorKind* findErrorKind(std::string_view name);

}  // namespace dbsplit
