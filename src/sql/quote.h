// The one place SQL text is built from names and values (DESIGN §5.6). Every
// identifier goes through quoteIdent; values go as bind parameters, except in
// DDL where PostgreSQL accepts no parameters (COMMENT ... IS, role options),
// where quoteLiteral is used. Sessions always run with
// standard_conforming_strings = on (src/pg), which quoteLiteral relies on.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace dbsplit::sql {

// "name" with embedded quotes doubled. Always quotes, so mixed case, spaces and
// non-ASCII survive unchanged.
std::string quoteIdent(std::string_view name);

// "schema"."name"
std::string quoteQualified(std::string_view schema, std::string_view name);

// 'text' with embedded quotes doubled; NULL when `is_null`.
std::string quoteLiteral(std::string_view text);

// Comma-separated quoted identifiers.
std::string quoteIdentList(const std::vector<std::string>& names);

}  // namespace dbsplit::sql
