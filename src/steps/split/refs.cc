// Walks libpg_query's JSON trees for relation names without a schema.
#include "steps/split/refs.h"

#include "catalogue/pg_query.h"
#include "fmt/format.h"
#include "nlohmann/json.hpp"
#include "sql/quote.h"

namespace dbsplit::steps::split {
namespace {

using json = nlohmann::json;
namespace pgq = catalogue::pgq;

void walkSql(const json& node, BodyRefs* out, std::set<std::string>* ctes) {
  if (node.is_array()) {
    for (const json& n : node) walkSql(n, out, ctes);
    return;
  }
  if (!node.is_object()) return;
  // A RangeVar: wrapped ({"RangeVar": {...}}) where the field is any node, bare
  // where it is typed (InsertStmt.relation, UpdateStmt.relation, ...).
  if (node.contains("relname") && node.contains("relpersistence") && !node.contains("schemaname")) {
    out->relations.insert(node["relname"].get<std::string>());
  }
  for (auto it = node.begin(); it != node.end(); ++it) {
    const std::string& k = it.key();
    const json& v = it.value();
    if (k == "CommonTableExpr" && v.is_object() && v.contains("ctename")) {
      ctes->insert(v["ctename"].get<std::string>());
    } else if (k == "sval" && v.is_object() && v.contains("sval") && v["sval"].is_string()) {
      // A_Const {"sval": {"sval": "..."}}: a string constant.
      out->strings.insert(v["sval"].get<std::string>());
    }
    walkSql(v, out, ctes);
  }
}

void addStatement(const std::string& sql, BodyRefs* out, std::set<std::string>* ctes) {
  pgq::Parsed p = pgq::parse(sql);
  if (!p.ok()) {
    size_t assign = sql.find(":=");
    if (assign != std::string::npos) p = pgq::parse("SELECT " + sql.substr(assign + 2));
    if (!p.ok()) p = pgq::parse("SELECT " + sql);
  }
  if (!p.ok()) {
    out->problems.push_back(fmt::format("\"{}\" does not parse: {}", sql, p.error));
    return;
  }
  walkSql(p.tree, out, ctes);
}

void collectPlpgsql(const json& node, BodyRefs* out, std::set<std::string>* ctes) {
  if (node.is_array()) {
    for (const json& n : node) collectPlpgsql(n, out, ctes);
    return;
  }
  if (!node.is_object()) return;
  for (auto it = node.begin(); it != node.end(); ++it) {
    const std::string& k = it.key();
    const json& v = it.value();
    if (k == "PLpgSQL_expr") {
      if (v.contains("query")) addStatement(v["query"].get<std::string>(), out, ctes);
      continue;
    }
    if (k == "PLpgSQL_stmt_dynexecute" || k == "PLpgSQL_stmt_dynfors") {
      out->problems.push_back(
          fmt::format("dynamic SQL (EXECUTE) at line {} cannot be checked", v.value("lineno", 0)));
    }
    collectPlpgsql(v, out, ctes);
  }
}

}  // namespace

BodyRefs unqualifiedRefs(const std::string& language, const std::string& text) {
  BodyRefs out;
  std::set<std::string> ctes;
  if (language == "plpgsql") {
    pgq::Parsed fn = pgq::parsePlpgsql(text);
    if (!fn.ok()) {
      out.problems.push_back("PL/pgSQL body does not parse: " + fn.error);
      return out;
    }
    collectPlpgsql(fn.tree, &out, &ctes);
  } else {
    pgq::Parsed p = pgq::parse(text);
    if (!p.ok()) {
      out.problems.push_back("body does not parse: " + p.error);
      return out;
    }
    walkSql(p.tree, &out, &ctes);
  }
  for (const std::string& c : ctes) out.relations.erase(c);
  return out;
}

std::vector<std::string> namesUsed(const BodyRefs& refs, const std::set<std::string>& candidates) {
  std::set<std::string> used;
  for (const std::string& r : refs.relations) {
    if (candidates.count(r)) used.insert(r);
  }
  for (const std::string& s : refs.strings) {
    // 'orders_id_seq' or '"Order Items"' as a regclass text: only a bare name
    // (no dot) is resolved through the search_path.
    if (s.find('.') != std::string::npos) continue;
    std::string bare = s;
    if (bare.size() >= 2 && bare.front() == '"' && bare.back() == '"') {
      bare = bare.substr(1, bare.size() - 2);
    }
    if (candidates.count(bare)) used.insert(bare);
  }
  return {used.begin(), used.end()};
}

std::vector<std::string> splitSearchPath(const std::string& setting) {
  std::vector<std::string> out;
  size_t i = 0;
  const size_t n = setting.size();
  while (i < n) {
    while (i < n && (setting[i] == ' ' || setting[i] == ',')) ++i;
    if (i >= n) break;
    std::string item;
    if (setting[i] == '"') {
      ++i;
      while (i < n) {
        if (setting[i] == '"') {
          if (i + 1 < n && setting[i + 1] == '"') {
            item += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        item += setting[i++];
      }
    } else {
      while (i < n && setting[i] != ',') item += setting[i++];
      while (!item.empty() && item.back() == ' ') item.pop_back();
    }
    out.push_back(item);
  }
  return out;
}

std::string searchPathSql(const std::vector<std::string>& elements) {
  if (elements.empty()) return "''";
  std::string out;
  for (size_t i = 0; i < elements.size(); ++i) {
    out += (i ? ", " : "") + sql::quoteIdent(elements[i]);
  }
  return out;
}

}  // namespace dbsplit::steps::split
