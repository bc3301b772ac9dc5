// Waived writes from the catalogue (see waivers.h).
#include "steps/ownership/waivers.h"

#include <algorithm>

#include "catalogue/pg_query.h"
#include "fmt/format.h"
#include "nlohmann/json.hpp"
#include "util/text.h"

namespace dbsplit::steps::ownership {
namespace {

using json = nlohmann::json;

bool names(const json& range_var, const std::string& table) {
  return range_var.is_object() && range_var.value("relname", std::string()) == table;
}

// The RangeVar of a typed relation field, wrapped or bare.
const json& rangeVar(const json& node) {
  static const json empty;
  if (!node.is_object()) return empty;
  if (node.contains("RangeVar")) return node["RangeVar"];
  return node;
}

void walk(const json& node, const std::string& table, std::set<std::string>* ops) {
  if (node.is_array()) {
    for (const json& n : node) walk(n, table, ops);
    return;
  }
  if (!node.is_object()) return;
  for (auto it = node.begin(); it != node.end(); ++it) {
    const std::string& k = it.key();
    const json& v = it.value();
    if (v.is_object()) {
      if (k == "InsertStmt" && names(rangeVar(v.value("relation", json())), table)) {
        ops->insert("INSERT");
        const json conflict = v.value("onConflictClause", json());
        if (conflict.is_object() && conflict.value("action", std::string()) == "ONCONFLICT_UPDATE")
          ops->insert("UPDATE");
      } else if (k == "UpdateStmt" && names(rangeVar(v.value("relation", json())), table)) {
        ops->insert("UPDATE");
      } else if (k == "DeleteStmt" && names(rangeVar(v.value("relation", json())), table)) {
        ops->insert("DELETE");
      } else if (k == "TruncateStmt") {
        for (const json& r : v.value("relations", json::array())) {
          if (names(rangeVar(r), table)) ops->insert("TRUNCATE");
        }
      } else if (k == "MergeStmt" && names(rangeVar(v.value("relation", json())), table)) {
        for (const json& w : v.value("mergeWhenClauses", json::array())) {
          const json clause = w.is_object() ? w.value("MergeWhenClause", json()) : json();
          std::string cmd = clause.is_object() ? clause.value("commandType", "") : "";
          if (cmd == "CMD_INSERT") ops->insert("INSERT");
          if (cmd == "CMD_UPDATE") ops->insert("UPDATE");
          if (cmd == "CMD_DELETE") ops->insert("DELETE");
        }
      } else if (k == "SelectStmt" && v.contains("lockingClause")) {
        // FOR UPDATE / FOR SHARE need UPDATE on some column of the locked table.
        for (const json& f : v.value("fromClause", json::array())) {
          if (names(rangeVar(f), table)) ops->insert("UPDATE");
        }
      }
    }
    walk(v, table, ops);
  }
}

}  // namespace

std::set<std::string> operationsOn(const std::string& statement, const std::string& table) {
  std::set<std::string> ops;
  catalogue::pgq::Parsed p = catalogue::pgq::parse(statement);
  if (p.ok()) walk(p.tree, table, &ops);
  return ops;
}

WaivedWrite waivedWrite(const plan::Waiver& waiver, const journal::SnapshotRecord* snapshot) {
  WaivedWrite out;
  std::set<std::string> ops, columns;
  std::vector<std::string> unanalysed;
  if (snapshot) {
    json body = json::parse(snapshot->body, nullptr, false);
    const std::string table = waiver.table.display();
    if (body.is_object() && body.contains("accesses") && body["accesses"].is_array()) {
      for (const json& a : body["accesses"]) {
        if (!a.is_object() || a.value("kind", "") != "write" ||
            a.value("service", "") != waiver.service || a.value("table", "") != table) {
          continue;
        }
        std::string statement = a.value("statement", "");
        // Through a view the statement names the view; through a function,
        // trigger or rule it names something else: not analysable here.
        const json via = a.contains("via") ? a["via"] : json();
        std::set<std::string> seen = via.is_string() && !via.get<std::string>().empty()
                                         ? std::set<std::string>{}
                                         : operationsOn(statement, waiver.table.name);
        if (seen.empty()) {
          unanalysed.push_back(statement);
          continue;
        }
        ops.insert(seen.begin(), seen.end());
        if (seen.count("UPDATE")) {
          if (!a.contains("columns") || !a["columns"].is_array() || a["columns"].empty()) {
            out.update_all = true;
          }
          for (const json& c : a.value("columns", json::array())) {
            if (c.is_string()) columns.insert(c.get<std::string>());
          }
        }
      }
    }
  }
  for (const char* p : {"INSERT", "DELETE", "TRUNCATE"}) {
    if (ops.count(p)) out.privileges.push_back(p);
  }
  std::vector<std::string> seen_parts;
  for (const auto& p : out.privileges) seen_parts.push_back(p);
  if (!waiver.columns.empty()) {
    // The plan's list wins over what was seen, both ways.
    out.update_columns = waiver.columns;
    out.update_all = false;
  } else if (ops.count("UPDATE") && !out.update_all) {
    out.update_columns.assign(columns.begin(), columns.end());
  }
  if (ops.count("UPDATE") && waiver.columns.empty()) {
    seen_parts.push_back(out.update_all ? "UPDATE"
                                        : "UPDATE (" + util::join(out.update_columns, ", ") + ")");
  }
  out.unanalysed = !unanalysed.empty();
  std::vector<std::string> parts;
  if (snapshot) {
    parts.push_back(seen_parts.empty()
                        ? fmt::format("no write analysed in catalogue snapshot #{}", snapshot->id)
                        : fmt::format("{} seen in catalogue snapshot #{}",
                                      util::join(seen_parts, ", "), snapshot->id));
  } else {
    parts.push_back("no catalogue snapshot");
  }
  if (!waiver.columns.empty()) {
    parts.push_back("UPDATE (" + util::join(waiver.columns, ", ") + ") listed by the waiver");
  }
  if (out.unanalysed) {
    parts.push_back(
        fmt::format("{} write(s) not analysable (through a function, trigger or rule): "
                    "every write held is kept",
                    unanalysed.size()));
  }
  out.evidence = util::join(parts, "; ");
  return out;
}

}  // namespace dbsplit::steps::ownership
