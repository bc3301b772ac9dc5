// Walks libpg_query's JSON trees for relation names without a schema.
#include "steps/split/refs.h"

#include <optional>

#include "catalogue/pg_query.h"
#include "fmt/format.h"
#include "nlohmann/json.hpp"
#include "sql/quote.h"

namespace dbsplit::steps::split {
namespace {

using json = nlohmann::json;
namespace pgq = catalogue::pgq;

// The last element of a name list ([{"String": {"sval": "pg_catalog"}}, ...]).
std::string lastName(const json& names) {
  if (!names.is_array() || names.empty()) return {};
  const json& last = names.back();
  if (!last.is_object() || !last.contains("String")) return {};
  return last["String"].value("sval", std::string());
}

// The string of an A_Const string node ({"A_Const": {"sval": {"sval": "x"}}}), if any.
std::optional<std::string> constString(const json& node) {
  if (!node.is_object() || !node.contains("A_Const")) return std::nullopt;
  const json& c = node["A_Const"];
  if (!c.is_object() || !c.contains("sval") || !c["sval"].is_object()) return std::nullopt;
  const json& v = c["sval"];
  if (!v.contains("sval") || !v["sval"].is_string()) return std::nullopt;
  return v["sval"].get<std::string>();
}

// Functions whose first argument is a relation's name as text.
bool takesRelationName(const std::string& function) {
  return function == "nextval" || function == "currval" || function == "setval" ||
         function == "to_regclass" || function == "pg_get_serial_sequence" ||
         function == "pg_sequence_last_value";
}

// A string constant names a relation only where PostgreSQL resolves it as
// one: cast to regclass, or the first argument of nextval() and the like. Any
// other literal (an outbox's aggregate_type, a status value) is just text.
void collectRelationString(const json& node, BodyRefs* out) {
  if (node.contains("TypeCast")) {
    const json& cast = node["TypeCast"];
    if (cast.is_object() && cast.contains("typeName") && cast["typeName"].is_object() &&
        lastName(cast["typeName"].value("names", json::array())) == "regclass") {
      if (auto s = constString(cast.value("arg", json()))) out->strings.insert(*s);
    }
  } else if (node.contains("FuncCall")) {
    const json& call = node["FuncCall"];
    if (call.is_object() && takesRelationName(lastName(call.value("funcname", json::array()))) &&
        call.contains("args") && call["args"].is_array() && !call["args"].empty()) {
      if (auto s = constString(call["args"][0])) out->strings.insert(*s);
    }
  }
}

void walkSql(const json& node, BodyRefs* out, std::set<std::string>* ctes) {
  if (node.is_array()) {
    for (const json& n : node) walkSql(n, out, ctes);
    return;
  }
  if (!node.is_object()) return;
  collectRelationString(node, out);
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
      // A quoted identifier: "" inside stands for one ".
      std::string inner;
      for (size_t i = 1; i + 1 < bare.size(); ++i) {
        inner += bare[i];
        if (bare[i] == '"' && bare[i + 1] == '"') ++i;
      }
      bare = inner;
    }
    if (candidates.count(bare)) used.insert(bare);
  }
  return {used.begin(), used.end()};
}

bool madeByDbsplit(const std::set<std::string>& service_schemas, const std::string& schema,
                   const std::string& name, const std::string& language, const std::string& text) {
  // The marker is the first line of templates/outbox/function.sql's body.
  return service_schemas.count(schema) > 0 && name.rfind("outbox_", 0) == 0 &&
         language == "plpgsql" &&
         text.find("-- Generated by dbsplit (step outbox)") != std::string::npos;
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
