// A schema-qualified relation name as written in a plan: `public.orders`,
// `"Sales"."Order Items"`. Parsed with SQL identifier rules: unquoted parts fold
// to lower case, quoted parts keep case, `""` is an escaped quote.
#pragma once

#include <optional>
#include <string>

namespace dbsplit::plan {

struct QualifiedName {
  std::string schema;  // as stored in pg_namespace.nspname (unquoted)
  std::string name;    // as stored in pg_class.relname (unquoted)

  // `schema.name` unquoted, as in pg_class (used in JSON and messages).
  std::string display() const;
  // `"schema"."name"` quoted for SQL.
  std::string quoted() const;

  bool operator==(const QualifiedName& o) const { return schema == o.schema && name == o.name; }
  bool operator!=(const QualifiedName& o) const { return !(*this == o); }
  bool operator<(const QualifiedName& o) const {
    return schema < o.schema || (schema == o.schema && name < o.name);
  }
};

// Returns nullopt and sets `error` when `text` is not exactly two identifiers
// separated by a dot. `schema_required` = false accepts a bare name with
// schema "public".
std::optional<QualifiedName> parseQualifiedName(const std::string& text, std::string* error,
                                                bool schema_required = true);

}  // namespace dbsplit::plan
