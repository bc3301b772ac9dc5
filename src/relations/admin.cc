#include "relations/admin.h"

#include <set>

#include "fmt/format.h"
#include "sql/quote.h"
#include "util/text.h"

namespace dbsplit::relations {
namespace {

constexpr const char* kAdmin = R"SQL(
SELECT r.rolname, r.rolsuper, r.rolcreaterole, r.rolcreatedb, r.rolreplication,
       r.rolsuper OR pg_catalog.pg_has_role(r.oid, 'pg_read_all_stats', 'USAGE'),
       pg_catalog.current_setting('server_version_num')::int
  FROM pg_catalog.pg_roles r
 WHERE r.rolname = current_user)SQL";

// USAGE: the role's privileges (owning its objects) reach the admin.
// admin_option (16+): the admin may grant membership in it.
constexpr const char* kRoles = R"SQL(
SELECT w.role, r.oid IS NOT NULL, coalesce(r.rolsuper, false),
       r.oid IS NOT NULL AND pg_catalog.pg_has_role(current_user, r.oid, 'USAGE'),
       r.oid IS NOT NULL AND EXISTS (
         SELECT 1 FROM pg_catalog.pg_auth_members m JOIN pg_catalog.pg_roles me
             ON me.oid = m.member AND me.rolname = current_user
          WHERE m.roleid = r.oid AND m.admin_option)
  FROM pg_catalog.unnest($1::text[]) AS w(role)
  LEFT JOIN pg_catalog.pg_roles r ON r.rolname = w.role)SQL";

constexpr const char* kCreateHolders = R"SQL(
SELECT r.rolname, n.nspname
  FROM pg_catalog.pg_namespace n JOIN pg_catalog.pg_roles r ON r.oid = n.nspowner
UNION
SELECT g.rolname, n.nspname
  FROM pg_catalog.pg_namespace n
 CROSS JOIN LATERAL pg_catalog.aclexplode(n.nspacl) a
  JOIN pg_catalog.pg_roles g ON g.oid = a.grantee
 WHERE a.privilege_type = 'CREATE')SQL";

std::string textArray(const std::vector<std::string>& values) {
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    std::string v;
    for (char c : values[i]) {
      if (c == '"' || c == '\\') v += '\\';
      v += c;
    }
    out += (i ? ",\"" : "\"") + v + "\"";
  }
  return out + "}";
}

}  // namespace

AdminRole readAdminRole(pg::Session& catalog) {
  pg::Result r = catalog.exec(kAdmin);
  AdminRole a;
  if (r.empty()) return a;
  a.name = r[0][0].c_str();
  a.superuser = r[0][1].as<bool>();
  a.createrole = r[0][2].as<bool>();
  a.createdb = r[0][3].as<bool>();
  a.replication = r[0][4].as<bool>();
  a.read_all_stats = r[0][5].as<bool>();
  a.server_version = r[0][6].as<int>();
  return a;
}

std::vector<MissingRole> missingRoles(pg::Session& catalog, const AdminRole& admin,
                                      const std::vector<std::string>& roles) {
  std::vector<MissingRole> out;
  if (admin.superuser) return out;
  std::vector<std::string> unique;
  std::set<std::string> seen;
  for (const auto& r : roles) {
    if (!r.empty() && r != admin.name && seen.insert(r).second) unique.push_back(r);
  }
  if (unique.empty()) return out;
  for (const auto& row : catalog.execParams(kRoles, textArray(unique))) {
    if (row[3].as<bool>()) continue;
    MissingRole m;
    m.role = row[0].c_str();
    m.exists = row[1].as<bool>();
    m.superuser = row[2].as<bool>();
    const bool admin_option = row[4].as<bool>();
    m.grantable = m.exists && !m.superuser &&
                  (admin_option || (admin.createrole && admin.server_version < 160000));
    out.push_back(m);
  }
  return out;
}

std::set<std::pair<std::string, std::string>> createHolders(pg::Session& catalog) {
  std::set<std::pair<std::string, std::string>> out;
  for (const auto& row : catalog.exec(kCreateHolders)) out.emplace(row[0].c_str(), row[1].c_str());
  return out;
}

std::string membershipAdvice(const AdminRole& admin, const std::vector<MissingRole>& missing) {
  std::vector<std::string> grants, supers;
  for (const auto& m : missing) {
    if (m.superuser) {
      supers.push_back(m.role);
    } else if (!m.grantable) {
      grants.push_back(
          fmt::format("GRANT {} TO {};", sql::quoteIdent(m.role), sql::quoteIdent(admin.name)));
    }
  }
  std::vector<std::string> parts;
  if (!grants.empty()) {
    parts.push_back(
        fmt::format("run as a role that may (one with CREATEROLE, or ADMIN OPTION on "
                    "them): {}",
                    util::join(grants, " ")));
  }
  if (!supers.empty()) {
    parts.push_back(fmt::format(
        "{} {} a superuser: a managed admin can never act as it; its objects must be given to "
        "another role first (ALTER ... OWNER TO, by the provider's support or a superuser)",
        util::join(supers, ", "), supers.size() == 1 ? "is" : "are"));
  }
  return util::join(parts, "; ");
}

}  // namespace dbsplit::relations
