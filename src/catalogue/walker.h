// The parse-tree walk behind Analyzer (private to src/catalogue): scopes of
// FROM items per query level, column references attributed to the item that
// provides them, read/write classification per statement kind.
#pragma once

#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "catalogue/analyzer.h"

namespace dbsplit::catalogue {

class Walker {
 public:
  Walker(Analyzer& analyzer, const std::vector<std::string>& path)
      : an_(analyzer), cat_(analyzer.catalog()), path_(path) {}

  // Walks one wrapped statement node ({"SelectStmt": {...}}, ...).
  void statement(const nlohmann::json& node);
  // Walks every statement found anywhere below `node` (SQL-standard bodies).
  void anyStatements(const nlohmann::json& node);
  void problem(std::string text) { problems_.push_back(std::move(text)); }
  // Adds a nested analysis (a view's or a function's) under `via`.
  void merge(const ShapeAnalysis& nested, const std::string& via, const std::string& context);
  ShapeAnalysis result() const;

 private:
  struct Item {
    std::string alias;
    std::string schema;             // of rel, for schema.table.column references
    const Relation* rel = nullptr;  // null: subquery, CTE, function, system relation
    bool opaque = false;            // provides columns we cannot list (subquery, CTE, function)
  };
  struct Scope {
    Scope* parent = nullptr;
    std::vector<Item> items;
    std::set<std::string> ctes;
  };

  void select(const nlohmann::json& body, Scope* parent);
  void insert(const nlohmann::json& body, Scope* parent);
  void update(const nlohmann::json& body, Scope* parent);
  void remove(const nlohmann::json& body, Scope* parent);
  void merge(const nlohmann::json& body, Scope* parent);
  void copy(const nlohmann::json& body);
  void withClause(const nlohmann::json& body, Scope* s);
  void from(const nlohmann::json& node, Scope* s);
  void expr(const nlohmann::json& node, Scope* s);
  void column(const nlohmann::json& body, Scope* s);
  void function(const nlohmann::json& body);
  void dispatch(const std::string& type, const nlohmann::json& body, Scope* s);

  // nullptr: system relation, CTE or unresolved (a problem is recorded).
  const Relation* resolve(const nlohmann::json& range_var, Scope* s, bool* is_cte);
  const Relation* base(const Relation* rel) const;  // partition -> root
  Item targetItem(const nlohmann::json& range_var, const Relation* rel) const;
  void read(const Relation* rel, const std::set<std::string>& cols);
  void readItem(const Item& item, const std::string& col);
  void readAll(const Item& item);
  // A write of kind `events` (Event bits; 0: a lock, which fires nothing);
  // `set_cols` is the UPDATE's SET list (UPDATE OF triggers).
  void write(const Relation* rel, const std::set<std::string>& cols, unsigned events,
             const std::set<std::string>& set_cols = {});
  // Follows the triggers and rules the write fires on `rel` (before a
  // partition is mapped to its root). `instead`: only INSTEAD OF triggers and
  // DO INSTEAD rules (views). Returns whether any replaces the write.
  bool fire(const Relation& rel, unsigned events, const std::set<std::string>& set_cols,
            bool instead);
  void lockFor(const nlohmann::json& locking, Scope* s);
  std::set<std::string> targetNames(const nlohmann::json& list) const;
  std::set<std::string> allColumns(const Relation* rel) const;

  Analyzer& an_;
  const Catalog& cat_;
  const std::vector<std::string> path_;  // a copy: callers pass temporaries
  // (table, write, via) -> columns; keeps the order of first sight.
  std::map<std::tuple<std::string, bool, std::string>, std::set<std::string>> acc_;
  std::vector<std::tuple<std::string, bool, std::string>> order_;
  std::vector<std::string> problems_;
};

}  // namespace dbsplit::catalogue
