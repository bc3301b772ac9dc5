// The plan's relations as the live catalog has them (read-only session): for
// every table and its partitions, and every view reading them, the owner,
// comment, table ACL and column ACLs. Read by the ownership step (which takes
// them over) and the revoke step (which takes reads away); in a few set-based
// queries, so that a plan with thousands of tables costs a handful of round
// trips. Values travel as bind parameters, never pasted into SQL.
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

// A sequence no column owns (no OWNED BY: made apart from its table, as many
// ORMs and old dumps do) that a column default of one of the step's relations
// uses (pg_depend of the default, pg_attrdef -> pg_class, deptype 'n'). It
// belongs to the owner of the tables whose defaults use it, as an owned
// sequence belongs to its table's owner; when those tables have two owners
// (or one is outside the plan) it belongs to nobody and a gate names it.
struct DefaultSequence {
  RelationState state;                     // the sequence (table: null)
  std::set<std::string> owners;            // services owning the plan tables whose defaults use it
  std::vector<const plan::Table*> tables;  // those plan tables (a partition: its root's)
  std::vector<std::string> users;  // every column whose default uses it: "schema.table.column"
                                   // (+ " (not in the plan)" for a table of no [[table]])
  bool unplanned = false;          // a table outside the plan uses it too

  // The service it belongs to, or "" when it is shared.
  std::string owner() const { return owners.size() == 1 && !unplanned ? *owners.begin() : ""; }
  // "public.rental_id_seq (used by public.rental.rental_id of rentals, ...)".
  std::string describe() const;
};

// The sequences of DefaultSequence used by `relations` (plan tables and their
// partitions, as readRelations returns them), by schema and name.
std::vector<DefaultSequence> readDefaultSequences(pg::Session& catalog,
                                                  const std::vector<RelationState>& relations);

bool currentUserIsSuperuser(pg::Session& catalog);

}  // namespace dbsplit::relations
