// The connected role as the steps need to know it: a superuser, or an admin
// of a managed service (RDS's rds_superuser, Cloud SQL's cloudsqlsuperuser,
// Azure's azure_pg_admin) that has CREATEROLE, REPLICATION and
// pg_read_all_stats but no superuser. Steps ask it which roles they must act
// as (take over their tables, grant as them) and whether they may join them.
//
// PostgreSQL facts this relies on (15; 16 noted):
//  - ALTER ... OWNER by a non-superuser needs the privileges of the old owner
//    (membership, INHERIT), membership in the new owner, and CREATE on the
//    object's schema for the new owner (superusers skip all three).
//  - SET ROLE needs membership; GRANT/REVOKE as a member acts as that role.
//  - CREATEROLE may grant and revoke membership in any role that is not a
//    superuser (15); from 16 only in roles it holds ADMIN OPTION on (which
//    the creator of a role gets).
#pragma once

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "pg/session.h"

namespace dbsplit::relations {

struct AdminRole {
  std::string name;  // current_user
  bool superuser = false;
  bool createrole = false;
  bool createdb = false;
  bool replication = false;
  bool read_all_stats = false;  // pg_read_all_stats (or superuser): every session's statements
  int server_version = 0;       // server_version_num
};

AdminRole readAdminRole(pg::Session& catalog);

// A role a step must act as and whose privileges the admin does not have.
struct MissingRole {
  std::string role;
  bool exists = true;
  bool superuser = false;  // a superuser's: no managed admin can act as it
  bool grantable = false;  // the admin may grant itself membership (GRANT role TO admin)
};

// The roles of `roles` (duplicates ignored) the admin lacks; none for a superuser.
std::vector<MissingRole> missingRoles(pg::Session& catalog, const AdminRole& admin,
                                      const std::vector<std::string>& roles);

// Whether the admin may grant membership in a role it is about to create
// (CREATEROLE; from 16 the creator holds ADMIN OPTION on it).
inline bool canGrantNewRoles(const AdminRole& admin) { return admin.superuser || admin.createrole; }

// Every (role, schema) where the role holds CREATE through an item of its own
// (or owns the schema): an owner change to it needs no temporary grant, and
// none may be revoked.
std::set<std::pair<std::string, std::string>> createHolders(pg::Session& catalog);

// "GRANT a TO me; GRANT b TO me" advice for the roles it cannot join itself.
std::string membershipAdvice(const AdminRole& admin, const std::vector<MissingRole>& missing);

}  // namespace dbsplit::relations
