// Where statements come from (docs/steps/catalogue.md "Sources"):
//   pg_stat_statements            the live database's statistics (the default)
//   log:PATH[@SERVICE]            a PostgreSQL log: stderr, csvlog or jsonlog
//                                 (detected), with pgaudit AUDIT lines
//   sql:PATH[@SERVICE]            a .sql file or a folder of them (recursive)
// @SERVICE attributes every statement of the source to that plan service; in
// a folder, a first-level subfolder named after a service attributes its files.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "plan/plan.h"

namespace dbsplit::catalogue {

struct Source {
  enum class Kind { kPgStatStatements, kLog, kSql };
  Kind kind = Kind::kPgStatStatements;
  std::string path;
  std::string service;  // from @SERVICE, "" = by role / folder
  std::string text;     // as written
  std::string where;    // "plan.toml:12:3" or "--source"
};

// Throws Error(kUsage, "catalogue_source_invalid") naming `where` for an
// unknown kind, an empty path or an @SERVICE the plan does not declare.
Source parseSource(const std::string& text, const std::string& where, const plan::Plan* plan);

// The sources to read: the command line's when given, else the plan's
// [step.catalogue] sources, else pg_stat_statements.
std::vector<Source> chooseSources(const std::vector<std::string>& cli, const plan::Plan* plan);

// Checks, before anything is read, that each file source exists and is
// readable, and that each log is in a format we know. Throws Error(kUsage,
// "catalogue_source_unreadable" | "catalogue_log_format") naming the source.
void checkSources(const std::vector<Source>& sources);

}  // namespace dbsplit::catalogue
