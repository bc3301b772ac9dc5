// The plan's relations as the live catalog has them (read-only session): for
// every table and its partitions, and every view reading them, the owner,
// comment, table ACL and column ACLs. Read by the ownership step (which takes
// them over) and the revoke step (which takes reads away); in a few set-based
// queries, so that a plan with thousands of tables costs a handful of round
// trips. Values travel as bind parameters, never pasted into SQL.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "acl/acl.h"
#include "nlohmann/json.hpp"
#include "pg/session.h"
#include "plan/plan.h"

namespace dbsplit::relations {

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

bool currentUserIsSuperuser(pg::Session& catalog);

}  // namespace dbsplit::relations
