// What a [[waiver]] lets the waived service keep writing on its table: only
// what the catalogue saw it write (issue 17): UPDATE on the columns it
// updated (or the columns the waiver lists), INSERT, DELETE or TRUNCATE only
// when a statement of it did that. Pure: from the plan and the latest
// catalogue snapshot's JSON (accesses with their example statement, parsed
// again here with libpg_query to tell the operation).
#pragma once

#include <set>
#include <string>
#include <vector>

#include "journal/journal.h"
#include "plan/plan.h"

namespace dbsplit::steps::ownership {

struct WaivedWrite {
  std::vector<std::string> privileges;      // table level: INSERT, DELETE, TRUNCATE (that order)
  std::vector<std::string> update_columns;  // UPDATE (columns): the waiver's, else those seen
  bool update_all = false;  // an UPDATE was seen whose columns the catalogue does not know
  // A write the example statements do not tell (through a function, a trigger
  // or a rule, or a statement that does not parse): the service keeps every
  // write it holds, as before column-level waivers.
  bool unanalysed = false;
  std::string evidence;  // "UPDATE (status) seen in catalogue snapshot #3", ...
};

// `snapshot` null: nothing was seen (only the waiver's columns are granted).
WaivedWrite waivedWrite(const plan::Waiver& waiver, const journal::SnapshotRecord* snapshot);

// The operations (INSERT, UPDATE, DELETE, TRUNCATE) `statement` performs on a
// relation named `table` (its name, schema or not); empty when it names none
// or does not parse. INSERT ... ON CONFLICT DO UPDATE is INSERT and UPDATE;
// MERGE what its WHEN clauses do; SELECT ... FOR UPDATE is UPDATE.
std::set<std::string> operationsOn(const std::string& statement, const std::string& table);

}  // namespace dbsplit::steps::ownership
