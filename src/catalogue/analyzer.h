// From one parsed statement to the base tables it reads and writes, with
// columns. Names resolve in the in-memory Catalog with the caller's
// search_path; views expand (recursively) to their base tables, partitions to
// their root, calls of SQL and PL/pgSQL functions to the tables their bodies
// touch, and writes to the triggers and rules they fire. What cannot be resolved comes back as a
// problem, never dropped.
//
// Thread-safety: one Analyzer per thread (it caches view and function bodies).
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "catalogue/catalog.h"
#include "nlohmann/json.hpp"

namespace dbsplit::catalogue {

struct ShapeAccess {
  std::string table;  // base table, "schema.name" unquoted
  bool write = false;
  std::set<std::string> columns;
  // "", "view s.v", "function s.f(integer)", "trigger t on s.t", "rule r on s.t":
  // what the statement itself used (nested ones are named by the outermost).
  std::string via;
};

struct ShapeAnalysis {
  std::vector<ShapeAccess> accesses;
  std::vector<std::string> problems;  // why (part of) the statement was not resolved
};

class Analyzer {
 public:
  explicit Analyzer(const Catalog& catalog) : catalog_(catalog) {}

  // `tree` is pg_query_parse's JSON ({"stmts":[...]}).
  ShapeAnalysis analyze(const nlohmann::json& tree, const std::vector<std::string>& path);

  // What reading view `view` touches, for a reader whose search_path is
  // `path` (its definition analysed once per path): the definition's own
  // names are all qualified, but the functions it calls run their bodies with
  // the reader's search_path.
  const ShapeAnalysis& viewAccesses(const Relation& view, const std::vector<std::string>& path);
  // The relation a write through an auto-updatable view lands on (a base
  // table), or nullptr when the view is not a single-table view.
  const Relation* updatableBase(const Relation& view);
  // What calling `f` touches with `path` (its body analysed once per path).
  const ShapeAnalysis& functionAccesses(const Function& f, const std::vector<std::string>& path);
  // What the actions of a rule touch when fired by a statement run with
  // `path` (the rule's names are qualified; the triggers its actions fire
  // run their functions with `path`). Analysed once per path.
  const ShapeAnalysis& ruleAccesses(const Rule& rule, const std::vector<std::string>& path);
  // Analyses a PL/pgSQL body (CREATE FUNCTION text) with `path`.
  ShapeAnalysis analyzePlpgsql(const std::string& create_function,
                               const std::vector<std::string>& path);

  const Catalog& catalog() const { return catalog_; }
  std::int64_t parses() const { return parses_; }
  void countParse() { ++parses_; }

 private:
  const Catalog& catalog_;
  std::map<std::pair<std::uint32_t, std::string>, ShapeAnalysis> views_;
  std::map<std::pair<std::uint32_t, std::string>, ShapeAnalysis> functions_;
  std::map<std::pair<std::uint32_t, std::string>, ShapeAnalysis> rules_;
  std::set<std::uint32_t> in_progress_;
  std::int64_t parses_ = 0;
};

}  // namespace dbsplit::catalogue
