// The owned-data table of seed 001 ("Example Owned-Data Table"): per service
// the tables it owns and who consumes them, from the plan's [[projection]]s
// and the reads in the latest catalogue snapshot. Printed by
// `dbsplit plan ownership [--format markdown|json]`. Pure.
#pragma once

#include <string>

#include "journal/journal.h"
#include "nlohmann/json.hpp"
#include "plan/plan.h"

namespace dbsplit::steps::ownership {

// {"services":[{"service","schema","login_roles":[...],"tables":[...],
//   "consumers":[{"service","via":[...]}],"waived_writers":[...]}],
//  "snapshot": id or null}
nlohmann::json ownedDataTable(const plan::Plan& plan, const journal::SnapshotRecord* snapshot);

// | Service | Tables | Consumers | as a Markdown table.
std::string ownedDataMarkdown(const nlohmann::json& table);

}  // namespace dbsplit::steps::ownership
