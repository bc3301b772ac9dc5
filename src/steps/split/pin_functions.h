// Schema mode of the split step: functions whose bodies name moving
// relations without a schema keep working before and after the move when
// their search_path is pinned to the schemas those relations move to, then
// their previous path (issue 17). One action per such function, run before
// the moves:
//   split/pin_search_path/<schema.function(args)>
//     ALTER FUNCTION ... SET search_path = <owner schemas>, <its old path>
// whose inverse sets the old value back, or RESETs it when the function had
// none (pg_proc.proconfig is then as before). Only functions dbsplit can
// analyse are pinned: a body with dynamic SQL (EXECUTE) or that does not
// parse, and procedures (a SET clause forbids their transaction control),
// stay listed by the unqualified_references gate. Reads only.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/action.h"
#include "pg/session.h"
#include "steps/split/refs.h"
#include "steps/split/sequences.h"

namespace dbsplit::steps::split {

struct Move;

struct FunctionPin {
  std::string signature;             // oid::regprocedure, as PostgreSQL quotes it
  std::optional<std::string> prior;  // its proconfig search_path value, if any
  std::vector<std::string> path;     // what it is pinned to
  std::vector<std::string> names;    // the moving names it uses unqualified
};

// Moving relation name (unqualified, as function bodies use it) -> the
// schemas relations of that name move to, in plan order.
std::map<std::string, std::vector<std::string>> targetSchemas(
    const std::vector<Move>& moves, const std::vector<SequenceMove>& sequence_moves);

// The pin for function `schema`.`name`(`identity_args`) of kind `prokind`
// ('f' or 'p') whose body `refs` names `used` (moving names) unqualified, or
// nullopt when it cannot be pinned (see above).
std::optional<FunctionPin> readFunctionPin(
    pg::Session& catalog, const std::string& schema, const std::string& name,
    const std::string& identity_args, const std::string& prokind, const BodyRefs& refs,
    const std::vector<std::string>& used,
    const std::map<std::string, std::vector<std::string>>& targets);

std::vector<engine::Action> pinActions(const std::vector<FunctionPin>& pins);

}  // namespace dbsplit::steps::split
