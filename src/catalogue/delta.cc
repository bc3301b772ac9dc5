// Snapshot deltas and how a baseline is chosen.
#include "catalogue/delta.h"

#include <map>
#include <tuple>

#include "fmt/format.h"
#include "util/error.h"
#include "util/time.h"

namespace dbsplit::catalogue {

using nlohmann::json;

namespace {
using Key = std::tuple<std::string, std::string, std::string, std::string, std::string>;

std::map<Key, std::int64_t> totals(const Snapshot& s) {
  std::map<Key, std::int64_t> out;
  for (const auto& a : s.accesses) out[{a.service, a.role, a.table, a.kind, a.via}] += a.calls;
  return out;
}

DeltaEntry entry(const Key& k, std::int64_t before, std::int64_t now) {
  return {
      std::get<0>(k), std::get<1>(k), std::get<2>(k), std::get<3>(k), std::get<4>(k), before, now};
}

json entryJson(const DeltaEntry& e) {
  return {{"service", e.service},
          {"role", e.role},
          {"table", e.table},
          {"kind", e.kind},
          {"via", e.via.empty() ? json(nullptr) : json(e.via)},
          {"calls_before", e.calls_before},
          {"calls_now", e.calls_now}};
}
}  // namespace

Delta diffSnapshots(const Snapshot& before, const Snapshot& now) {
  Delta d;
  d.baseline_taken_at = before.taken_at;
  auto b = totals(before), n = totals(now);
  for (const auto& [k, calls] : n) {
    auto it = b.find(k);
    if (it == b.end()) {
      d.added.push_back(entry(k, 0, calls));
    } else if (calls == it->second) {
      d.stopped.push_back(entry(k, it->second, calls));
    } else {
      d.continuing.push_back(entry(k, it->second, calls));
    }
  }
  for (const auto& [k, calls] : b) {
    if (!n.count(k)) d.stopped.push_back(entry(k, calls, 0));
  }
  return d;
}

journal::SnapshotRecord pickBaseline(const journal::Journal* journal, const std::string& since,
                                     std::string* note) {
  std::vector<journal::SnapshotRecord> all;
  if (journal) all = journal->snapshots("catalogue");
  bool is_id = !since.empty() && since.find_first_not_of("0123456789") == std::string::npos;
  std::int64_t window = 0;
  if (!is_id) {
    try {
      window = util::parseDurationMillis(since, "--since");
    } catch (const Error&) {
      throw Error::usage("catalogue_since_invalid",
                         fmt::format("--since {}: neither a snapshot id nor a duration", since),
                         "write a snapshot id (12) or a window (7d, 12h)");
    }
  }
  if (all.empty()) {
    throw Error::precondition("catalogue_no_snapshot",
                              "the journal holds no catalogue snapshot to compare with",
                              "dbsplit run catalogue");
  }
  if (is_id) {
    for (const auto& s : all) {
      if (std::to_string(s.id) == since) return s;
    }
    throw Error::usage(
        "catalogue_since_invalid",
        fmt::format("--since {}: the journal has no catalogue snapshot {}", since, since),
        "`dbsplit log` lists the runs; `dbsplit run catalogue` stores a snapshot");
  }
  std::string cutoff = util::isoAt(util::nowUnixMillis() - window);
  const journal::SnapshotRecord* best = nullptr;
  for (const auto& s : all) {
    if (s.taken_at <= cutoff && (!best || s.taken_at > best->taken_at)) best = &s;
  }
  if (best) return *best;
  const journal::SnapshotRecord* oldest = &all.front();
  for (const auto& s : all) {
    if (s.taken_at < oldest->taken_at) oldest = &s;
  }
  if (note) {
    *note = fmt::format("no snapshot is {} old yet; comparing with the oldest ({}, {})", since,
                        oldest->id, oldest->taken_at);
  }
  return *oldest;
}

nlohmann::json deltaJson(const Delta& d) {
  json out = {{"baseline_taken_at", d.baseline_taken_at}};
  for (const auto& [name, list] :
       {std::make_pair("added", &d.added), std::make_pair("stopped", &d.stopped),
        std::make_pair("continuing", &d.continuing)}) {
    json arr = json::array();
    for (const auto& e : *list) arr.push_back(entryJson(e));
    out[name] = arr;
  }
  return out;
}

}  // namespace dbsplit::catalogue
