// Schema mode of the split step, for sequences no column owns (no OWNED BY)
// that only one service's tables' defaults use: PostgreSQL moves an owned
// sequence with its table, not these, so each gets its own action
//   split/move_sequence/<schema.sequence>   ALTER SEQUENCE ... SET SCHEMA <owner>
// whose inverse moves it back. Column defaults name the sequence by OID
// (nextval('s'::regclass) is stored bound), so they keep working; function
// bodies that name it as text are the unqualified_references gate's.
// Reads only.
#pragma once

#include <string>
#include <vector>

#include "engine/action.h"
#include "pg/session.h"
#include "plan/plan.h"

namespace dbsplit::steps::split {

struct SequenceMove {
  std::string oid;
  plan::QualifiedName from;
  std::string to_schema;  // the owning service's schema
  std::string users;      // the columns whose defaults use it, for the description
};

// The sequences to move, by schema and name: used by the defaults of one
// service's plan tables (wherever those are now: at their plan name or in the
// owner's schema) and not in that schema yet. A sequence shared by two owners
// stays (step ownership's shared_sequences gate names it). Appends to
// `problems` a line per sequence whose name is taken in the owner's schema.
std::vector<SequenceMove> readSequenceMoves(pg::Session& catalog, const plan::Plan& plan,
                                            std::vector<std::string>* problems);

std::vector<engine::Action> sequenceMoveActions(const std::vector<SequenceMove>& moves);

}  // namespace dbsplit::steps::split
