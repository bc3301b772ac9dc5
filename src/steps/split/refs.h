// The unqualified-reference finder of the split step (schema mode): which
// relation names a function body uses without a schema. Pure (libpg_query
// only), so every shape is unit-testable. Function bodies are kept as text and
// resolved against the caller's search_path at run time, so they are what
// breaks when a table changes schema; views, defaults and check constraints
// are stored as parse trees bound to OIDs and follow the move.
#pragma once

#include <set>
#include <string>
#include <vector>

namespace dbsplit::steps::split {

struct BodyRefs {
  std::set<std::string> relations;    // unqualified relation names (RangeVar without schema)
  std::set<std::string> strings;      // string constants PostgreSQL resolves as relation names:
                                      // 'x'::regclass, nextval('x') and the like; other
                                      // literals are not references
  std::vector<std::string> problems;  // "does not parse", "dynamic SQL at line 4"
};

// `language` is "sql" or "plpgsql". For plpgsql, `text` is the whole CREATE
// FUNCTION (pg_get_functiondef); for sql, the body (prosrc).
BodyRefs unqualifiedRefs(const std::string& language, const std::string& text);

// The names of `candidates` that `refs` uses unqualified (relations and string
// constants naming a bare relation), sorted.
std::vector<std::string> namesUsed(const BodyRefs& refs, const std::set<std::string>& candidates);

// Whether the function `schema`.`name` (`language`, `text` as for
// unqualifiedRefs) is one dbsplit made: the outbox step's trigger functions,
// in a service's schema (`service_schemas`), named outbox_..., marked in their
// body. dbsplit qualifies every name it renders, so they never break.
bool madeByDbsplit(const std::set<std::string>& service_schemas, const std::string& schema,
                   const std::string& name, const std::string& language, const std::string& text);

// A search_path setting as stored in pg_db_role_setting (`"$user", public`)
// split into its elements, unquoted.
std::vector<std::string> splitSearchPath(const std::string& setting);
// The elements quoted for `SET search_path = ...` (every element quoted).
std::string searchPathSql(const std::vector<std::string>& elements);

}  // namespace dbsplit::steps::split
