// `dbsplit plan ownership --format markdown|json`: the owned-data table of
// seed 001 (service, tables, consumers). Needs the plan and, for consumers seen
// reading, the journal's latest catalogue snapshot; no database connection.
#include "cli/app.h"
#include "cli/common.h"
#include "steps/ownership/table.h"

namespace dbsplit::cli {

Outcome planOwnedData(Context& ctx, const std::string& step, const std::string& format) {
  if (step != "ownership") {
    throw Error::usage("usage",
                       "--format " + format + " renders the ownership step's owned-data table",
                       "dbsplit plan ownership --format " + format);
  }
  plan::Plan plan = loadPlan(ctx);
  std::optional<journal::SnapshotRecord> snapshot;
  if (journal::Journal::exists(plan.migration.journal)) {
    auto j = journal::Journal::open(plan.migration.journal, journal::Journal::Mode::kReadOnly);
    snapshot = j->latestSnapshot("catalogue");
  }
  nlohmann::json table = steps::ownership::ownedDataTable(plan, snapshot ? &*snapshot : nullptr);
  nlohmann::json ev = table;
  ev["event"] = "owned_data";
  ctx.out.event(ev, format == "json" ? table.dump(2) : steps::ownership::ownedDataMarkdown(table));
  // No next steps: stdout stays a clean Markdown or JSON document.
  return {ExitCode::kOk, {}};
}

}  // namespace dbsplit::cli
