// Views rebuilt for consumers (rebuilt_views.h).
#include "steps/projections/rebuilt_views.h"

#include <functional>
#include <set>

#include "catalogue/pg_query.h"
#include "fmt/format.h"
#include "sql/quote.h"
#include "sql/template.h"

namespace dbsplit::steps::projections {
namespace {

using nlohmann::json;

// Every RangeVar (schema, name) and every CTE name in the tree.
void walk(const json& node, std::vector<std::pair<std::string, std::string>>* tables,
          std::set<std::string>* ctes) {
  if (node.is_array()) {
    for (const auto& child : node) walk(child, tables, ctes);
    return;
  }
  if (!node.is_object()) return;
  for (const auto& [key, value] : node.items()) {
    if (key == "RangeVar") {
      tables->emplace_back(value.value("schemaname", std::string()),
                           value.value("relname", std::string()));
    } else if (key == "CommonTableExpr") {
      ctes->insert(value.value("ctename", std::string()));
    }
    walk(value, tables, ctes);
  }
}

// The query without the blanks and semicolons it may end with.
std::string trimmedQuery(const std::string& query) {
  size_t end = query.find_last_not_of(" \t\r\n;");
  return end == std::string::npos ? std::string() : query.substr(0, end + 1);
}

}  // namespace

std::string rebuiltViewComment(const plan::SharedObject& view) {
  return fmt::format("dbsplit: {} rebuilt for consumer {} over its projections",
                     view.name.display(), view.service);
}

plan::QualifiedName rebuiltViewName(const plan::SharedObject& view) {
  return {view.service, view.name.name};
}

std::vector<std::string> rebuiltViewProblems(const plan::Plan& plan) {
  std::vector<std::string> out;
  for (const plan::SharedObject& v : plan.shared) {
    if (v.decision != "rebuild") continue;
    const std::string where = fmt::format("{}: [[view]] {} rebuilt for {}: query", v.pos.str(),
                                          v.name.display(), v.service);
    catalogue::pgq::Parsed parsed = catalogue::pgq::parse(trimmedQuery(v.query));
    if (!parsed.ok()) {
      out.push_back(fmt::format("{} does not parse: {}", where, parsed.error));
      continue;
    }
    const json& stmts = parsed.tree.value("stmts", json::array());
    if (stmts.size() != 1 || !stmts[0].contains("stmt") ||
        !stmts[0]["stmt"].contains("SelectStmt")) {
      out.push_back(fmt::format("{} must be exactly one SELECT statement", where));
      continue;
    }
    std::vector<std::pair<std::string, std::string>> tables;
    std::set<std::string> ctes;
    walk(stmts[0]["stmt"], &tables, &ctes);
    for (const auto& [schema, name] : tables) {
      if (schema.empty() && ctes.count(name)) continue;
      if (schema == v.service) continue;
      out.push_back(fmt::format(
          "{} reads {}: a rebuilt view reads only its consumer's schema (its projections), or it "
          "fails after step 5 as the shared view does; write {}.<projection>",
          where, schema.empty() ? name + " (no schema)" : schema + "." + name, v.service));
    }
  }
  return out;
}

engine::Action rebuiltViewAction(const plan::Plan& plan, const plan::SharedObject& view) {
  const plan::QualifiedName target = rebuiltViewName(view);
  engine::Action a;
  a.id = "projections/view/" + target.display();
  if (const plan::Service* s = plan.findService(view.service); s && !s->database.empty()) {
    a.database = s->name;
  }
  a.description = fmt::format("create {}: {}'s own {} over its projections ([[view]] rebuild)",
                              target.display(), view.service, view.name.display());
  // The query is the plan's SQL as written (the plan is code), so it is not a
  // template value: no hole of its own text could ever be filled.
  a.forward = fmt::format("CREATE VIEW {} AS\n{};\n", target.quoted(), trimmedQuery(view.query)) +
              sql::renderTemplate("projections/view.sql",
                                  {{"view", target.quoted()},
                                   {"group", sql::quoteIdent(view.service)},
                                   {"comment", sql::quoteLiteral(rebuiltViewComment(view))}});
  a.inverse = "DROP VIEW " + target.quoted() + ";";
  a.lock = {"ACCESS SHARE", "the projections the view reads"};
  return a;
}

}  // namespace dbsplit::steps::projections
