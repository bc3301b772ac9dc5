// What the revoke step reads from the live catalog (read-only session): every
// relation that holds one service's data (its tables and their partitions, the
// sequences they own or their defaults alone use, the views over them) with its ACL, the ACL of
// each service's schema, and the default privileges of the services' roles. A few set-based
// queries, so that thousands of tables cost a handful of round trips.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "acl/acl.h"
#include "pg/session.h"
#include "plan/plan.h"
#include "relations/relations.h"

namespace dbsplit::steps::revoke {

struct Relation {
  relations::RelationState state;
  std::string what;               // "table", "partition", "sequence", "view", "materialized view"
  std::string service;            // the service whose action revokes on it
  std::set<std::string> allowed;  // services that keep their access (empty: a view over
                                  // several services' tables)
  std::set<std::string> spans;    // views: the services whose tables it reads
};

struct SchemaAcl {
  std::string name;
  std::string owner;
  std::vector<acl::AclItem> items;  // empty when nspacl is NULL
};

// One pg_default_acl entry for tables ('r') or sequences ('S').
struct DefaultAcl {
  std::string role;    // defaclrole
  std::string schema;  // "" = every schema (global entry)
  char objtype = 'r';
  std::vector<acl::AclItem> items;
};

struct Objects {
  std::vector<Relation> relations;  // tables, partitions, sequences, then views (inner first)
  std::vector<SchemaAcl> schemas;   // the services' own schemas that exist
  std::vector<DefaultAcl> defaults;
  // Plan table or partition (schema.name, unquoted) -> owning service.
  std::map<std::string, std::string> owner_of;
  // Plan table or partition -> the plan table it belongs to (itself or its root).
  std::map<std::string, std::string> root_of;
};

// Throws what relations::readRelations throws for tables missing from the database.
Objects readObjects(pg::Session& catalog, const plan::Plan& plan);

}  // namespace dbsplit::steps::revoke
