// What the ownership step reads from the live catalog (read-only session):
// roles, schemas, and for every relation it will own its owner, comment, table
// ACL and column ACLs. Relations are read in a few set-based queries so that a
// plan with thousands of tables costs a handful of round trips.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "acl/acl.h"
#include "nlohmann/json.hpp"
#include "pg/session.h"
#include "plan/plan.h"

namespace dbsplit::steps::ownership {

struct RelationState {
  std::string oid;
  std::string schema;
  std::string name;
  char kind = 'r';                     // pg_class.relkind: r or p (v or m: a view)
  const plan::Table* table = nullptr;  // the plan entry it belongs to (a partition: its root's)
  std::string owner;
  bool owner_is_superuser = false;
  std::optional<std::string> comment;
  acl::RelationAcl acl;

  std::string display() const { return schema + "." + name; }
  std::string quoted() const;
};

struct RoleState {
  bool exists = false;
  bool can_login = false;
  std::string comment;
  std::set<std::string> members;  // roles that are direct members
};

struct SchemaState {
  bool exists = false;
  std::string owner;
};

// Each plan table followed by its partitions (all levels; parent before
// child), in plan order. A partition the plan declares itself is left to its
// own entry. Throws Error(kPrecondition, "table_missing") naming every plan
// table that is not a table in the database, with its plan position.
std::vector<RelationState> readRelations(pg::Session& catalog, const plan::Plan& plan);

// A view or materialized view (relation.kind v or m; relation.table null)
// reading at least one of the step's relations.
struct ViewState {
  RelationState relation;
  std::vector<std::string> bases;  // oids of the non-view relations it reads, recursively
  size_t inner_views = 0;          // views it reads, recursively
};

// Every view and materialized view (outside the system schemas) that reads,
// directly or through other views, one of `relations`; inner views before the
// views over them.
std::vector<ViewState> readViews(pg::Session& catalog, const std::vector<RelationState>& relations);

// Owner, comment and ACLs of the relations whose oids `oids` (a JSON array of
// oid strings) lists, by oid; `table` is left null.
std::map<std::string, RelationState> readStates(pg::Session& catalog, const nlohmann::json& oids);

// The table-level write privileges (INSERT, UPDATE, DELETE, TRUNCATE, in that
// order) `role` holds on the relation `oid` in any way (own grants, PUBLIC,
// inherited roles, ownership); empty for a superuser, who needs none.
std::vector<std::string> heldWrites(pg::Session& catalog, const std::string& role,
                                    const std::string& oid);

RoleState readRole(pg::Session& catalog, const std::string& name);
SchemaState readSchema(pg::Session& catalog, const std::string& name);
bool currentUserIsSuperuser(pg::Session& catalog);

}  // namespace dbsplit::steps::ownership
