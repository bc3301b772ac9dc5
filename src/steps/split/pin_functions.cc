// Pinned search_path for functions that name moving relations (pin_functions.h).
#include "steps/split/pin_functions.h"

#include <algorithm>

#include "fmt/format.h"
#include "sql/template.h"
#include "steps/split/schema.h"
#include "util/text.h"

namespace dbsplit::steps::split {
namespace {

// The function's oid as regprocedure text (qualified and quoted by
// PostgreSQL, the session's search_path being pg_catalog, pg_temp), its
// search_path setting, and the database's (the callers' default).
constexpr const char* kFunction = R"SQL(
SELECT p.oid::pg_catalog.regprocedure::text,
       (SELECT substr(e, length('search_path=') + 1) FROM unnest(p.proconfig) e
         WHERE e LIKE 'search\_path=%'),
       (SELECT substr(e, length('search_path=') + 1)
          FROM pg_catalog.pg_db_role_setting s, unnest(s.setconfig) e
         WHERE s.setrole = 0
           AND s.setdatabase = (SELECT oid FROM pg_catalog.pg_database
                                 WHERE datname = current_database())
           AND e LIKE 'search\_path=%')
  FROM pg_catalog.pg_proc p
  JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = $1 AND p.proname = $2
   AND pg_catalog.pg_get_function_identity_arguments(p.oid) = $3)SQL";

void addUnique(std::vector<std::string>& list, const std::string& v) {
  if (std::find(list.begin(), list.end(), v) == list.end()) list.push_back(v);
}

}  // namespace

std::map<std::string, std::vector<std::string>> targetSchemas(
    const std::vector<Move>& moves, const std::vector<SequenceMove>& sequence_moves) {
  std::map<std::string, std::vector<std::string>> out;
  for (const Move& m : moves) {
    addUnique(out[m.from.name], m.to_schema);
    for (const std::string& s : m.sequences) addUnique(out[s], m.to_schema);
  }
  for (const SequenceMove& m : sequence_moves) addUnique(out[m.from.name], m.to_schema);
  return out;
}

std::optional<FunctionPin> readFunctionPin(
    pg::Session& catalog, const std::string& schema, const std::string& name,
    const std::string& identity_args, const std::string& prokind, const BodyRefs& refs,
    const std::vector<std::string>& used,
    const std::map<std::string, std::vector<std::string>>& targets) {
  if (prokind != "f" || !refs.problems.empty() || used.empty()) return std::nullopt;
  pg::Result r = catalog.execParams(kFunction, schema, name, identity_args);
  if (r.size() != 1) return std::nullopt;
  FunctionPin pin;
  pin.signature = r[0][0].c_str();
  if (!r[0][1].is_null()) pin.prior = r[0][1].c_str();
  pin.names = used;
  for (const std::string& n : used) {
    auto it = targets.find(n);
    if (it == targets.end()) return std::nullopt;
    for (const std::string& s : it->second) addUnique(pin.path, s);
  }
  std::string old =
      pin.prior ? *pin.prior : (r[0][2].is_null() ? "\"$user\", public" : r[0][2].c_str());
  for (const std::string& e : splitSearchPath(old)) addUnique(pin.path, e);
  return pin;
}

std::vector<engine::Action> pinActions(const std::vector<FunctionPin>& pins) {
  std::vector<engine::Action> actions;
  for (const FunctionPin& p : pins) {
    engine::Action a;
    a.id = "split/pin_search_path/" + p.signature;
    a.description = fmt::format(
        "function {} names {} without a schema: its search_path is pinned to {} so that it "
        "works before and after the move",
        p.signature, util::join(p.names, ", "), util::join(p.path, ", "));
    a.forward = sql::renderTemplate("split/function_path_set.sql",
                                    {{"function", p.signature}, {"path", searchPathSql(p.path)}});
    if (p.prior) {
      a.inverse = sql::renderTemplate(
          "split/function_path_set.sql",
          {{"function", p.signature}, {"path", searchPathSql(splitSearchPath(*p.prior))}});
    } else {
      a.inverse = sql::renderTemplate("split/function_path_reset.sql", {{"function", p.signature}});
    }
    a.lock = {"none", ""};
    actions.push_back(std::move(a));
  }
  return actions;
}

}  // namespace dbsplit::steps::split
