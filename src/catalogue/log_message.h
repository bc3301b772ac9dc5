// Parsing parts of log lines (private to src/catalogue).
#pragma once

#include <string>
#include <vector>

namespace dbsplit::catalogue {

// Splits one CSV record (RFC 4180 quoting) into fields.
std::vector<std::string> csvFields(const std::string& rec);

// user=..., app=... (or application_name=...) or Debian's %u@%d in a stderr
// log_line_prefix; "[unknown]" reads as empty.
void prefixFields(const std::string& prefix, std::string* user, std::string* app);

}  // namespace dbsplit::catalogue
