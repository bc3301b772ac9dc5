// Turning a parsed TOML document into a Plan (private to src/plan). Reading
// checks each entry on its own (types, required and unknown keys, patterns,
// enums); validate() then checks how entries refer to each other. Both only
// collect problems; parsePlan() throws once at the end.
#pragma once

#include <toml++/toml.h>

#include <functional>
#include <string>
#include <vector>

#include "plan/plan.h"
#include "plan/problems.h"
#include "plan/toml_reader.h"

namespace dbsplit::plan {

// Positions kept beside the Plan, index for index with its vectors.
struct PlanPositions {
  EntryPositions migration;
  std::vector<EntryPositions> services;
  std::vector<EntryPositions> tables;
  std::vector<EntryPositions> events;
  std::vector<EntryPositions> projections;
  std::vector<EntryPositions> waivers;
  std::vector<EntryPositions> shared;  // index for index with Plan::shared
  EntryPositions catalogue;
  EntryPositions revoke;
  EntryPositions split;
  EntryPositions selftest;
};

// Context shared by the section readers.
struct ReadContext {
  const std::string& file;  // as given, for positions
  Problems* problems;
};

// Entries are always appended, even when a field is missing or invalid (it is
// then left empty), so that one bad field does not make every reference to
// the entry look wrong too.
void readPlan(const toml::table& root, const ReadContext& ctx, Plan* plan, PlanPositions* pos);

void readMigration(const toml::table& root, const ReadContext& ctx, Plan* plan, PlanPositions* pos);
void readServices(const toml::table& root, const ReadContext& ctx, Plan* plan, PlanPositions* pos);
void readTables(const toml::table& root, const ReadContext& ctx, Plan* plan, PlanPositions* pos);
void readWaivers(const toml::table& root, const ReadContext& ctx, Plan* plan, PlanPositions* pos);
void readEvents(const toml::table& root, const ReadContext& ctx, Plan* plan, PlanPositions* pos);
void readProjections(const toml::table& root, const ReadContext& ctx, Plan* plan,
                     PlanPositions* pos);
// [[view]] and [[function]] (read_shared.cc).
void readShared(const toml::table& root, const ReadContext& ctx, Plan* plan, PlanPositions* pos);
void readSteps(const toml::table& root, const ReadContext& ctx, Plan* plan, PlanPositions* pos);

// Calls `fn` with each table of the array of tables `key` ([[key]]), reporting
// a `key` that is not an array of tables.
void forEachEntry(const toml::table& root, const std::string& key, const ReadContext& ctx,
                  const std::function<void(const toml::table&)>& fn);

// Reads a schema-qualified name from `key`, reporting why it does not parse.
QualifiedName readQualifiedName(EntryReader& reader, const std::string& key);

// Reports `value` when it is not one of `allowed`, with a did-you-mean.
bool checkEnum(EntryReader& reader, const std::string& key, const std::string& value,
               const std::vector<std::string>& allowed);

// Cross-reference checks: validate.cc (owners, roles, waivers, split mode) and
// validate_events.cc (events and projections).
void validateOwnership(const Plan& plan, const PlanPositions& pos, Problems* problems);
void validateEvents(const Plan& plan, const PlanPositions& pos, Problems* problems);
void validateShared(const Plan& plan, const PlanPositions& pos, Problems* problems);
// validate_names.cc: the relations dbsplit makes in a service's schema (outbox,
// cursor, backfill progress, projections and their keys, tables the split
// moves there) never take one another's name.
void validateGeneratedNames(const Plan& plan, const PlanPositions& pos, Problems* problems);

}  // namespace dbsplit::plan
