// The catalogue's data: who reads and writes which base table, down to columns,
// and the statements that could not be analysed (DESIGN §4 "catalogue --format
// json"). A Snapshot is what `run catalogue` stores in the journal and what the
// ownership and revoke steps read back, so its JSON keys must not change.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"

namespace dbsplit::catalogue {

inline constexpr const char* kUnassigned = "unassigned";

struct Access {
  std::string service;  // plan service, or kUnassigned
  std::string role;     // login role; "" when the source does not say (SQL files)
  std::string table;    // base table, schema-qualified, unquoted as in pg_class
  std::string kind;     // "read" | "write"
  std::set<std::string> columns;
  std::int64_t calls = 0;
  std::string via;  // "" (direct), "view public.v", "function public.f(integer)"
  std::string fingerprint;
  std::string statement;    // normalised SQL of one example
  std::string application;  // application_name when the source says (extra key)
  std::string source;       // which --source it came from (extra key)
};

struct Unresolved {
  std::string statement;
  std::string reason;
  std::int64_t calls = 0;
  std::string where;  // "file:line" or "" (pg_stat_statements)
  std::string source;
};

// Input that is not a statement and could not be read (garbage lines, a binary
// file, a truncated record): counted per source, the first few kept with where.
struct Skipped {
  std::string where;
  std::string reason;
};

struct Stats {
  std::int64_t statements = 0;  // statements read from all sources (calls not summed)
  std::int64_t calls = 0;       // sum of calls
  std::int64_t shapes = 0;      // distinct fingerprints
  std::int64_t parses = 0;      // pg_query_parse calls made
  std::int64_t skipped_lines = 0;
};

struct Snapshot {
  std::string taken_at;
  std::vector<std::string> sources;
  std::vector<Access> accesses;
  std::vector<Unresolved> unresolved;
  std::vector<Skipped> skipped;
  Stats stats;

  nlohmann::json toJson() const;
  // Throws Error(kDrift, "snapshot_corrupt") when required keys are missing.
  static Snapshot fromJson(const nlohmann::json& j);
};

}  // namespace dbsplit::catalogue
