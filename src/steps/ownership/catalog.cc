// Live-catalog reads of the ownership step: roles, schemas, held privileges.
// Values travel as bind parameters, never pasted into SQL.
#include "steps/ownership/catalog.h"

namespace dbsplit::steps::ownership {

std::vector<std::string> heldWrites(pg::Session& catalog, const std::string& role,
                                    const std::string& oid) {
  std::vector<std::string> out;
  for (const auto& row :
       catalog.execParams("SELECT p FROM unnest(ARRAY['INSERT', 'UPDATE', 'DELETE', 'TRUNCATE'])"
                          "       WITH ORDINALITY AS w(p, n)"
                          " WHERE NOT (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = $1)"
                          "   AND pg_catalog.has_table_privilege($1, $2::pg_catalog.oid, p)"
                          " ORDER BY n",
                          role, oid)) {
    out.push_back(row[0].c_str());
  }
  return out;
}

std::vector<std::string> heldColumnUpdates(pg::Session& catalog, const std::string& role,
                                           const std::string& oid,
                                           const std::vector<std::string>& columns) {
  std::vector<std::string> out;
  if (columns.empty()) return out;
  for (const auto& row : catalog.execParams(
           "SELECT a.attname FROM pg_catalog.pg_attribute a"
           " WHERE a.attrelid = $2::pg_catalog.oid AND a.attnum > 0 AND NOT a.attisdropped"
           "   AND a.attname IN (SELECT value FROM json_array_elements_text($3::json))"
           "   AND NOT (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = $1)"
           "   AND pg_catalog.has_column_privilege($1, $2::pg_catalog.oid, a.attnum, 'UPDATE')"
           " ORDER BY a.attnum",
           role, oid, nlohmann::json(columns).dump())) {
    out.push_back(row[0].c_str());
  }
  return out;
}

std::vector<std::string> missingColumns(pg::Session& catalog, const std::string& oid,
                                        const std::vector<std::string>& columns) {
  std::vector<std::string> out;
  if (columns.empty()) return out;
  for (const auto& row : catalog.execParams(
           "SELECT c.value FROM json_array_elements_text($2::json) WITH ORDINALITY AS c(value, n)"
           " WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a"
           "                    WHERE a.attrelid = $1::pg_catalog.oid AND a.attname = c.value"
           "                      AND a.attnum > 0 AND NOT a.attisdropped)"
           " ORDER BY c.n",
           oid, nlohmann::json(columns).dump())) {
    out.push_back(row[0].c_str());
  }
  return out;
}

RoleState readRole(pg::Session& catalog, const std::string& name) {
  RoleState s;
  pg::Result r = catalog.execParams(
      "SELECT rolcanlogin, coalesce(pg_catalog.shobj_description(oid, 'pg_authid'), '')"
      "  FROM pg_catalog.pg_roles WHERE rolname = $1",
      name);
  if (r.empty()) return s;
  s.exists = true;
  s.can_login = r[0][0].as<bool>();
  s.comment = r[0][1].c_str();
  for (const auto& row : catalog.execParams("SELECT m.rolname FROM pg_catalog.pg_auth_members am"
                                            "  JOIN pg_catalog.pg_roles g ON g.oid = am.roleid"
                                            "  JOIN pg_catalog.pg_roles m ON m.oid = am.member"
                                            " WHERE g.rolname = $1",
                                            name)) {
    s.members.insert(row[0].c_str());
  }
  return s;
}

SchemaState readSchema(pg::Session& catalog, const std::string& name) {
  SchemaState s;
  pg::Result r = catalog.execParams(
      "SELECT o.rolname FROM pg_catalog.pg_namespace n"
      "  JOIN pg_catalog.pg_roles o ON o.oid = n.nspowner WHERE n.nspname = $1",
      name);
  if (r.empty()) return s;
  s.exists = true;
  s.owner = r[0][0].c_str();
  return s;
}

}  // namespace dbsplit::steps::ownership
