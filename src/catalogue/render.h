// The catalogue's outputs for people and tools: a table per table (text), CSV,
// Mermaid and Graphviz graphs of services and the tables they share, the
// draft ownership section of `--propose`, and deltas.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "catalogue/delta.h"
#include "catalogue/model.h"
#include "plan/plan.h"

namespace dbsplit::catalogue {

// Per table: the declared owner, else the most frequent writer (empty: none).
struct Ownership {
  std::string owner;
  bool declared = false;
  bool tie = false;                            // several services write equally often
  std::map<std::string, std::int64_t> writes;  // service -> calls
};
std::map<std::string, Ownership> ownership(const Snapshot& s, const plan::Plan* plan);

std::string renderText(const Snapshot& s, const plan::Plan* plan);
std::string renderCsv(const Snapshot& s);
std::string renderMermaid(const Snapshot& s, const plan::Plan* plan);
std::string renderDot(const Snapshot& s, const plan::Plan* plan);
// A draft plan: [migration] (from `plan` when given), [[service]], [[table]],
// and from the traffic between services [[event]]s, [[projection]]s (their
// key from `primary_keys`, table -> key columns) and commented [[waiver]]s.
std::string renderProposal(
    const Snapshot& s, const plan::Plan* plan,
    const std::map<std::string, std::vector<std::string>>& primary_keys = {});
std::string renderDelta(const Delta& d);

}  // namespace dbsplit::catalogue
