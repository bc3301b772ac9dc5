// Analyzer: statements, view definitions and function bodies, each analysed
// once and cached. PL/pgSQL bodies go through pg_query_parse_plpgsql; every
// embedded SQL expression is then parsed like a statement.
#include "catalogue/analyzer.h"

#include "catalogue/pg_query.h"
#include "catalogue/walker.h"
#include "fmt/format.h"
#include "util/text.h"

namespace dbsplit::catalogue {

using nlohmann::json;

ShapeAnalysis Analyzer::analyze(const json& tree, const std::vector<std::string>& path) {
  Walker w(*this, path);
  if (tree.contains("stmts")) {
    for (const auto& s : tree["stmts"]) {
      if (s.contains("stmt")) w.statement(s["stmt"]);
    }
  }
  return w.result();
}

const ShapeAnalysis& Analyzer::viewAccesses(const Relation& view,
                                            const std::vector<std::string>& path) {
  auto key = std::make_pair(view.oid, util::join(path, ","));
  auto it = views_.find(key);
  if (it != views_.end()) return it->second;
  ShapeAnalysis& out = views_[key];  // an empty entry first: stops a cycle
  if (!in_progress_.insert(view.oid).second) return out;
  countParse();
  pgq::Parsed p = pgq::parse(view.viewdef);
  ShapeAnalysis result;
  if (!p.ok()) {
    result.problems.push_back(fmt::format("definition does not parse: {}", p.error));
  } else {
    // pg_get_viewdef ran with an empty search_path: every user name in it is
    // qualified, so `path` only reaches the bodies of the functions it calls.
    result = analyze(p.tree, path);
  }
  in_progress_.erase(view.oid);
  views_[key] = std::move(result);
  return views_[key];
}

const Relation* Analyzer::updatableBase(const Relation& view) {
  pgq::Parsed p = pgq::parse(view.viewdef);
  if (!p.ok() || p.tree["stmts"].size() != 1) return nullptr;
  const json& sel = p.tree["stmts"][0]["stmt"];
  if (!sel.contains("SelectStmt")) return nullptr;
  const json& body = sel["SelectStmt"];
  if (!body.contains("fromClause") || body["fromClause"].size() != 1) return nullptr;
  const json& item = body["fromClause"][0];
  if (!item.contains("RangeVar")) return nullptr;
  const json& rv = item["RangeVar"];
  auto found = catalog_.resolve(rv.value("schemaname", ""), rv.value("relname", ""), {});
  if (!found || !*found) return nullptr;
  const Relation* rel = *found;
  if (rel->kind == 'v') {
    if (!in_progress_.insert(view.oid).second) return nullptr;
    rel = updatableBase(*rel);
    in_progress_.erase(view.oid);
  }
  return rel;
}

const ShapeAnalysis& Analyzer::functionAccesses(const Function& f,
                                                const std::vector<std::string>& caller_path) {
  // A function with its own SET search_path runs its body with it ("$user"
  // left out: whose name it is depends on the caller and SECURITY DEFINER).
  std::vector<std::string> own;
  if (f.search_path) own = parseSearchPath(*f.search_path, "");
  const std::vector<std::string>& path = f.search_path ? own : caller_path;
  auto key = std::make_pair(f.oid, util::join(path, ","));
  auto it = functions_.find(key);
  if (it != functions_.end()) return it->second;
  functions_[key] = {};  // recursion sees an empty analysis
  if (!in_progress_.insert(f.oid).second) return functions_[key];
  ShapeAnalysis result;
  if (f.language == "plpgsql") {
    result = analyzePlpgsql(f.body, path);
  } else if (f.language == "sql") {
    countParse();
    pgq::Parsed p = pgq::parse(f.body);
    if (!p.ok()) {
      result.problems.push_back("body does not parse: " + p.error);
    } else if (f.sql_standard) {
      Walker w(*this, path);
      w.anyStatements(p.tree);
      result = w.result();
    } else {
      result = analyze(p.tree, path);
    }
  }
  in_progress_.erase(f.oid);
  functions_[key] = std::move(result);
  return functions_[key];
}

const ShapeAnalysis& Analyzer::ruleAccesses(const Rule& rule,
                                            const std::vector<std::string>& path) {
  auto key = std::make_pair(rule.oid, util::join(path, ","));
  auto it = rules_.find(key);
  if (it != rules_.end()) return it->second;
  rules_[key] = {};  // a rule whose action fires itself sees an empty analysis
  ShapeAnalysis result;
  countParse();
  pgq::Parsed p = pgq::parse(rule.definition);
  if (!p.ok()) {
    result.problems.push_back("definition does not parse: " + p.error);
  } else {
    // pg_get_ruledef ran with an empty search_path: every user name is
    // qualified. NEW and OLD are the rule's own range entries, not tables.
    Walker w(*this, path);
    for (const auto& s : p.tree["stmts"]) {
      const json& stmt = s.contains("stmt") ? s["stmt"] : json();
      if (!stmt.contains("RuleStmt")) continue;
      w.anyStatements(stmt["RuleStmt"].value("actions", json::array()));
      w.anyStatements(stmt["RuleStmt"].value("whereClause", json::object()));
    }
    result = w.result();
  }
  rules_[key] = std::move(result);
  return rules_[key];
}

namespace {

// Every SQL expression of a PL/pgSQL function, and the statements that run
// dynamic SQL (whose tables cannot be known from the text).
void collectExprs(const json& node, std::vector<std::string>* queries,
                  std::vector<std::string>* dynamic) {
  if (node.is_array()) {
    for (const auto& n : node) collectExprs(n, queries, dynamic);
    return;
  }
  if (!node.is_object()) return;
  for (auto it = node.begin(); it != node.end(); ++it) {
    const std::string& k = it.key();
    if (k == "PLpgSQL_expr") {
      if (it.value().contains("query")) queries->push_back(it.value()["query"].get<std::string>());
      continue;
    }
    if (k == "PLpgSQL_stmt_dynexecute" || k == "PLpgSQL_stmt_dynfors") {
      dynamic->push_back(fmt::format("line {}", it.value().value("lineno", 0)));
    }
    if (k == "PLpgSQL_stmt_open" && it.value().contains("dynquery")) {
      dynamic->push_back(fmt::format("line {}", it.value().value("lineno", 0)));
    }
    collectExprs(it.value(), queries, dynamic);
  }
}

// PostgreSQL keeps expressions as written: "x := (SELECT ...)", "a > 0",
// "SELECT ...". Try them as a statement, then as an assignment, then as an
// expression.
pgq::Parsed parseExpr(const std::string& q) {
  pgq::Parsed p = pgq::parse(q);
  if (p.ok()) return p;
  size_t assign = q.find(":=");
  if (assign != std::string::npos) {
    pgq::Parsed a = pgq::parse("SELECT " + q.substr(assign + 2));
    if (a.ok()) return a;
  }
  pgq::Parsed e = pgq::parse("SELECT " + q);
  return e.ok() ? e : p;
}

}  // namespace

ShapeAnalysis Analyzer::analyzePlpgsql(const std::string& create_function,
                                       const std::vector<std::string>& path) {
  Walker w(*this, path);
  countParse();
  pgq::Parsed fn = pgq::parsePlpgsql(create_function);
  if (!fn.ok()) {
    w.problem("PL/pgSQL body does not parse: " + fn.error);
    return w.result();
  }
  std::vector<std::string> queries, dynamic;
  collectExprs(fn.tree, &queries, &dynamic);
  for (const auto& d : dynamic) {
    w.problem("dynamic SQL (EXECUTE) at " + d + ": the tables it touches cannot be known");
  }
  for (const auto& q : queries) {
    countParse();
    pgq::Parsed p = parseExpr(q);
    if (!p.ok()) {
      w.problem(fmt::format("expression \"{}\" does not parse: {}", q, p.error));
      continue;
    }
    for (const auto& s : p.tree["stmts"]) {
      if (s.contains("stmt")) w.statement(s["stmt"]);
    }
  }
  return w.result();
}

}  // namespace dbsplit::catalogue
