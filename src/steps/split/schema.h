// Schema mode of the split step: what moves (each owned table and every
// partition, into the owner's schema), the owner roles' search_path settings
// before and after, and the objects the move would break (functions naming a
// moving table without a schema, roles reading it from elsewhere). Reads only.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/action.h"
#include "pg/session.h"
#include "plan/plan.h"
#include "steps/split/pin_functions.h"
#include "steps/split/sequences.h"

namespace dbsplit::steps::split {

// One relation to move: from its current schema into `to_schema`.
struct Move {
  std::string oid;
  plan::QualifiedName from;
  std::string to_schema;  // the owning service's schema (its name)
  char kind = 'r';        // r or p
  bool partition = false;
  std::vector<std::string> sequences;  // names of owned sequences (they follow the table)
  std::string owner;                   // the relation's owner: its compatibility view's too
};

// One owner login role's search_path in this database.
struct RolePath {
  std::string role;
  std::string service;
  std::optional<std::string> prior;  // pg_db_role_setting for (role, this database), if any
  std::vector<std::string> after;    // the service's schema first, then the prior effective path
};

struct SchemaPlan {
  std::string database;              // current_database()
  std::vector<Move> moves;           // in plan order, each root before its partitions
  std::vector<RolePath> paths;       // roles whose setting changes
  std::vector<std::string> blocked;  // one line per function/role the move would break
  std::vector<std::string> follow;   // views and matviews bound by OID: they follow
  // Sequences no column owns that move with their tables' owner (sequences.h).
  std::vector<SequenceMove> sequence_moves;
  // Functions whose search_path is pinned before the moves (pin_functions.h);
  // they are not in `blocked`.
  std::vector<FunctionPin> pins;
  // A managed admin (not a superuser) gives the compatibility view to the
  // table's owner only while the owner may create in the view's schema:
  // (owner, schema) pairs that hold CREATE already; empty for a superuser.
  bool superuser = true;
  std::set<std::pair<std::string, std::string>> create_holders;
};

// Each service's schema is created by step ownership (it may not exist yet
// when every step is planned ahead). Throws
// Error(kPrecondition) naming every plan table that is missing or whose name
// is taken in the owner's schema. Tables already in the owner's schema are not
// moves; roles whose path already starts with the schema are not changed.
SchemaPlan readSchemaPlan(pg::Session& catalog, const plan::Plan& plan);

std::vector<engine::Action> schemaActions(const SchemaPlan& sp);

// `role`'s search_path setting in database `datname` and what it becomes with
// `schema` first; nullopt when the role does not exist or the path already
// starts with the schema.
std::optional<RolePath> readRolePath(pg::Session& catalog, const std::string& role,
                                     const std::string& schema, const std::string& datname);

// ALTER ROLE ... IN DATABASE ... SET search_path (and its exact inverse).
engine::Action rolePathAction(const std::string& id_kind, const RolePath& p,
                              const std::string& database);

}  // namespace dbsplit::steps::split
