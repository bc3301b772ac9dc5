// Primary keys of the tables a draft plan projects (see catalog.h): a
// projection needs a key, and the draft names it from the catalog.
#include "catalogue/catalog.h"
#include "nlohmann/json.hpp"
#include "pg/session.h"

namespace dbsplit::catalogue {
namespace {

constexpr const char* kKeys = R"SQL(
SELECT n.nspname || '.' || c.relname, a.attname
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_catalog.pg_index i ON i.indrelid = c.oid AND i.indisprimary
  CROSS JOIN LATERAL pg_catalog.unnest(i.indkey::pg_catalog.int2[]) WITH ORDINALITY AS k(attnum, ord)
  JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
 WHERE n.nspname || '.' || c.relname IN (SELECT pg_catalog.json_array_elements_text($1::pg_catalog.json))
 ORDER BY 1, k.ord)SQL";

}  // namespace

std::map<std::string, std::vector<std::string>> readPrimaryKeys(
    pg::Session& session, const std::set<std::string>& tables) {
  std::map<std::string, std::vector<std::string>> out;
  if (tables.empty()) return out;
  nlohmann::json names = nlohmann::json::array();
  for (const auto& t : tables) names.push_back(t);
  for (const auto& row : session.execParams(kKeys, names.dump())) {
    out[row[0].c_str()].push_back(row[1].c_str());
  }
  return out;
}

}  // namespace dbsplit::catalogue
