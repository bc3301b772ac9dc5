// A cheap, exact-enough key for a statement's shape: literals replaced by `?`,
// comments dropped, whitespace collapsed, unquoted words folded to lower case.
// Two statements with the same key differ only in literal values, so they
// touch the same tables and columns; the key lets a million log lines be
// grouped with one pass over their bytes before libpg_query sees any of them.
#pragma once

#include <string>
#include <string_view>

namespace dbsplit::catalogue {

std::string shapeKey(std::string_view sql);

}  // namespace dbsplit::catalogue
