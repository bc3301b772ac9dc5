// What the ownership step reads from the live catalog (read-only session):
// roles and schemas here; its relations through src/relations.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "pg/session.h"
#include "plan/plan.h"
#include "relations/relations.h"

namespace dbsplit::steps::ownership {

using relations::currentUserIsSuperuser;
using relations::readRelations;
using relations::readStates;
using relations::readViews;
using relations::RelationState;
using relations::ViewState;

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

// The table-level write privileges (INSERT, UPDATE, DELETE, TRUNCATE, in that
// order) `role` holds on the relation `oid` in any way (own grants, PUBLIC,
// inherited roles, ownership); empty for a superuser, who needs none.
std::vector<std::string> heldWrites(pg::Session& catalog, const std::string& role,
                                    const std::string& oid);

// Of `columns`, those `role` may UPDATE on relation `oid` (table or column
// grant, in any way), in column order; none for a superuser.
std::vector<std::string> heldColumnUpdates(pg::Session& catalog, const std::string& role,
                                           const std::string& oid,
                                           const std::vector<std::string>& columns);

// Of `columns`, those relation `oid` does not have.
std::vector<std::string> missingColumns(pg::Session& catalog, const std::string& oid,
                                        const std::vector<std::string>& columns);

RoleState readRole(pg::Session& catalog, const std::string& name);
SchemaState readSchema(pg::Session& catalog, const std::string& name);

}  // namespace dbsplit::steps::ownership
