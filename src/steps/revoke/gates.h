// The revoke step's gates (DESIGN §6, issue 9), pure functions of the plan,
// journal snapshots and a catalogue snapshot taken now, so that every rule is
// unit-tested without a database:
//   compare_clean       when require_compare: for every consumer with
//                       [[projection]]s, its latest `compare` snapshot is clean
//                       and newer than its latest `relay_start`; a consumer
//                       reading another's table it has no projection of blocks
//                       (writes are left to the window gate)
//   deprecation_window  no consumer read or wrote a table it does not own since
//                       the newest catalogue snapshot older than the window (the
//                       statements are listed; a write a [[waiver]] accepted in
//                       step 2 is marked as such: the step revokes it too); no
//                       snapshot that old: blocks and says how long is left
//   observe             mode = "observe": lists the statements that would
//                       fail after the revoke, and stops before anything changes
// Journal bodies: compare {"consumer","clean","tables":[...]} and relay_start
// {"consumer","snapshot"} (COMMON contracts); catalogue as catalogue::Snapshot.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "catalogue/model.h"
#include "engine/step.h"
#include "journal/journal.h"
#include "plan/plan.h"

namespace dbsplit::steps::revoke {

// A read (or write) by one service of a table another service owns.
struct CrossAccess {
  std::string service, role, table, owner, fingerprint, statement, via, kind;
  std::int64_t calls = 0;
};

// The accesses of `snapshot` by a service of a table that `owner_of` (plan
// table or partition -> service) gives to another service. With `plan`, those
// through a view or function it keeps ([[view]] / [[function]] decision =
// "keep") are left out: they go on after step 5 by decision.
std::vector<CrossAccess> crossAccesses(const catalogue::Snapshot& snapshot,
                                       const std::map<std::string, std::string>& owner_of,
                                       const plan::Plan* plan = nullptr);

// `root_of`: plan table or partition -> its plan table.
engine::Gate compareGate(const plan::Plan& plan, const std::vector<CrossAccess>& reads,
                         const std::map<std::string, std::string>& root_of,
                         const std::vector<journal::SnapshotRecord>& compares,
                         const std::vector<journal::SnapshotRecord>& relay_starts);

// `catalogues`: the journal's catalogue snapshots; `now`: collected now
// (null when it could not be, with `now_error` saying why); `consumers`:
// services that hold privileges the step revokes or read across already.
engine::Gate windowGate(const plan::Plan& plan, const std::set<std::string>& consumers,
                        const std::map<std::string, std::string>& owner_of,
                        const std::vector<journal::SnapshotRecord>& catalogues,
                        const catalogue::Snapshot* now, const std::string& now_error,
                        std::int64_t now_unix_ms);

engine::Gate observeGate(const std::vector<CrossAccess>& today, const std::string& where);

// "2026-11-30T23:17:26.123Z" -> Unix milliseconds; -1 when it does not parse.
std::int64_t parseIsoMillis(const std::string& iso);

}  // namespace dbsplit::steps::revoke
