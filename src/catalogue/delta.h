// Deltas between two catalogue snapshots (`catalogue --since`, and the revoke
// step's deprecation-window gate). Accesses are compared per (service, role,
// table, kind, via), calls summed over statement shapes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "catalogue/model.h"
#include "journal/journal.h"

namespace dbsplit::catalogue {

struct DeltaEntry {
  std::string service, role, table, kind, via;
  std::int64_t calls_before = 0;
  std::int64_t calls_now = 0;
};

struct Delta {
  std::string baseline_taken_at;
  std::vector<DeltaEntry> added;       // seen now, not in the baseline
  std::vector<DeltaEntry> stopped;     // gone, or no new calls since the baseline
  std::vector<DeltaEntry> continuing;  // in both, with new calls (or statistics reset)
};

// An access "stopped" when it is absent now or its call count has not moved:
// pg_stat_statements counts are cumulative, so equal counts mean no call since.
Delta diffSnapshots(const Snapshot& before, const Snapshot& now);

// The baseline for `since`: a snapshot id ("12"), or a window ("7d", "12h"):
// the newest catalogue snapshot taken at or before now minus the window, else
// the oldest one (and `note` says the window is not covered yet). Throws
// Error(kUsage, "catalogue_since_invalid") for text that is neither, and
// Error(kPrecondition, "catalogue_no_snapshot") when there is none to compare with.
journal::SnapshotRecord pickBaseline(const journal::Journal* journal, const std::string& since,
                                     std::string* note);

nlohmann::json deltaJson(const Delta& d);

}  // namespace dbsplit::catalogue
