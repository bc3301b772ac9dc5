// What `dbsplit compare` knows about one projection: the two relations (source
// and projection) as the catalog describes them, and the SQL expressions it
// runs on each side. Built once per table, before any data is read; every
// problem with the input (a missing table, columns that changed since the
// projections step ran, a key that cannot be ordered) is found here, with a
// message that says what to do.
//
// The row hash. Each side computes, per row, a 64-bit hash of the declared
// columns that is equal for equal values whatever their physical form:
//   - when both sides' column types are the same kind of value (the integers,
//     numeric, text, timestamptz, jsonb, ... from a fixed list), the type's own
//     extended hash function, which PostgreSQL keeps consistent with equality
//     (numeric 1.0 and 1.00 hash alike, int4 and int8 alike, timestamptz is an
//     instant, jsonb is compared as jsonb);
//   - otherwise hashtextextended() of a canonical text form: numeric with its
//     trailing zeros trimmed, timestamptz in UTC, json as jsonb text, the rest
//     through its output function, all with COLLATE "C" so only the bytes count.
// Column i is hashed with seed i and NULL is a per-column constant, so NULL and
// '' differ and swapping two columns' values changes the hash. Columns are
// combined with xor; rows are combined with sum() (a numeric, so no overflow):
// the chunk hash does not depend on the order rows are read in.
//
// Thread-safety: a TableSpec is immutable; share it freely.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "plan/plan.h"

namespace dbsplit::compare {

// One column of a relation, from pg_attribute (domains resolved to their base).
struct Column {
  std::string name;
  std::string type;       // format_type(base type, NULL): what parameters are cast to
  std::string base_type;  // pg_type.typname of the base type ("int4", "numeric", ...)
  char typtype = 'b';     // pg_type.typtype of the base type ('e' = enum, 'b' = base, ...)
  std::string collation;  // empty when the type is not collatable
  bool not_null = false;
};

struct Relation {
  plan::QualifiedName name;
  bool found = false;
  std::vector<Column> columns;
  double estimated_rows = -1;  // pg_class.reltuples (-1: never analyzed)
  const Column* find(const std::string& column) const;
};

// The SQL of one side. Expressions refer to the relation's columns unqualified.
struct SideSql {
  std::string table;                       // quoted relation name
  std::string row_hash;                    // bigint expression
  std::vector<std::string> key_text;       // canonical text of each key column
  std::vector<std::string> key_order;      // key expressions to order and compare by
  std::vector<std::string> key_cast;       // "::type" (and COLLATE) for key parameters
  std::vector<std::string> nullable_keys;  // key columns that may hold NULL
};

struct TableSpec {
  plan::Projection projection;
  std::string projection_name;   // consumer.name, unquoted (as in the journal)
  std::string source_name;       // schema.table, unquoted
  std::vector<std::string> key;  // declared key columns
  SideSql source;
  SideSql target;  // the projection
  // A single integer key: chunks are split by arithmetic on the key's range.
  bool integer_key = false;
  // Per key column: true when its values are integers (reported as JSON numbers).
  std::vector<bool> key_is_integer;
};

// The consumer's projection table: <consumer schema>.<name>.
plan::QualifiedName projectionTable(const plan::Projection& p);

// Checks both relations and builds the SQL. Throws Error(kPrecondition) with
// kind "projection_missing" (run projections first), "source_missing",
// "projection_columns_changed", "source_columns_missing" or "no_usable_key".
TableSpec buildSpec(const plan::Projection& p, const Relation& source, const Relation& target);

// True when values of `base_type` are integers (int2, int4, int8).
bool isIntegerType(const std::string& base_type);

}  // namespace dbsplit::compare
