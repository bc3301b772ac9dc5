// `dbsplit report --html FILE`: one self-contained HTML page (no network: no
// external scripts, styles, fonts or images) about a migration -- the
// coupling graph before and after, the owned-data table, each step's timeline
// with its actions and durations from the journal, compare results and relay
// lag. Pure rendering: the caller gathers the inputs.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "catalogue/model.h"
#include "journal/journal.h"
#include "plan/plan.h"

namespace dbsplit::report {

struct RelayLag {
  std::string consumer;
  std::string outbox;
  std::int64_t seq = 0;
  std::int64_t applied = 0;
  std::int64_t behind = -1;  // events of the outbox not applied yet (-1: unknown)
  std::string updated_at;
  double seconds_since_update = 0;
};

struct StepTimeline {
  journal::StepRecord step;
  std::vector<journal::ActionRecord> actions;
};

struct ReportInputs {
  const plan::Plan& plan;
  std::optional<catalogue::Snapshot> before;  // the first catalogue snapshot
  std::optional<catalogue::Snapshot> after;   // accesses still happening now
  std::string after_note;                     // how "after" was measured
  std::vector<StepTimeline> steps;
  std::vector<journal::RunRecord> runs;
  std::vector<journal::SnapshotRecord> compares;  // kind "compare"
  std::vector<RelayLag> relays;
  std::string generated_at;
};

// Renders the page. `dot_to_svg` turns DOT text into an inline <svg> element
// (empty when Graphviz is not there: the DOT text is shown instead).
std::string renderHtml(const ReportInputs& in,
                       const std::function<std::string(const std::string&)>& dot_to_svg);

// Runs Graphviz `dot -Tsvg`; returns the <svg> element without the XML
// prolog, DOCTYPE and namespace URLs, or "" when dot is not installed or fails.
std::string dotToSvg(const std::string& dot);

std::string escapeHtml(const std::string& text);

// The "After" graph in DOT: the target architecture of `plan` (per service,
// under its schema: owned tables, outbox, projections; tables feeding outboxes
// feeding projections) and, in red, the accesses `after` (may be null) still
// sees to tables of another service.
std::string targetDot(const plan::Plan& plan, const catalogue::Snapshot* after);

}  // namespace dbsplit::report
