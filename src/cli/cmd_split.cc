// dbsplit split finalize [--dry-run]
#include "cli/app.h"
#include "cli/common.h"
#include "fmt/format.h"
#include "journal/journal.h"
#include "pg/conninfo.h"
#include "steps/split/database.h"
#include "util/text.h"

namespace dbsplit::cli {
namespace {

// What finalize drops, named before anything is asked or done.
void announce(Context& ctx) {
  plan::Plan plan = loadPlan(ctx);
  std::unique_ptr<journal::Journal> journal;
  if (journal::Journal::exists(plan.migration.journal)) {
    journal = journal::Journal::open(plan.migration.journal, journal::Journal::Mode::kReadOnly);
  }
  for (const plan::Service* s : steps::split::movingServices(plan)) {
    // The names the split step journaled; without a journal (nothing split
    // yet) the pattern, since the last part depends on the source database.
    std::string name = journal ? steps::split::journaledReplicationName(*journal, s->name) : "";
    if (name.empty()) {
      name = steps::split::replicationName(plan.migration.name, s->name, "");
      name = name.substr(0, name.size() - 8) + "<source database>";
    }
    std::vector<std::string> tables;
    for (const plan::Table& t : plan.tables) {
      if (t.owner == s->name) tables.push_back(s->name + "." + t.name.name);
    }
    ctx.out.event(
        {{"event", "finalize_drops"},
         {"service", s->name},
         {"subscription", name},
         {"publication", name},
         {"slot", name},
         {"tables", tables}},
        fmt::format("split finalize drops, irreversibly, for service {}: the subscription {} in "
                    "{}; the replication slot and publication {} on the source; the tables {} "
                    "and their data on the source",
                    s->name, name, pg::redactDsn(s->database), name, util::join(tables, ", ")));
  }
}

}  // namespace

void addSplitCommand(CLI::App& app, AppState& state) {
  CLI::App* split = app.add_subcommand("split", "Step 6 maintenance: finalize a split");
  split->fallthrough();
  split->require_subcommand(1);
  auto dry_run = std::make_shared<bool>(false);
  CLI::App* finalize = addCommand(
      *split, state, "finalize",
      "Drop the compatibility views; after a database cutover, the source copies",
      "  Schema mode: a moved table left a compatibility view under its old name for\n"
      "  the sessions opened before the split. Finalize drops them (each with an\n"
      "  inverse) once no session of an owner role predates its new search_path\n"
      "  (gate old_sessions; `dbsplit status` counts them).\n"
      "  Database mode, the one irreversible command: after `run split` has cut every\n"
      "  service with a [[service]].database over, finalize also drops, per service:\n"
      "  the subscription in the new database, the replication slot and the publication\n"
      "  on the source, and the service's tables (with their data) from the source.\n"
      "  Until then `dbsplit rollback split` can go back. It names what it drops and\n"
      "  asks on a terminal; without one it needs --yes (else exit 5). Gates: split is\n"
      "  applied, the cutover of every service is done, nothing else on the source\n"
      "  depends on the tables. Journaled as the standalone step `finalize`.",
      "  dbsplit split finalize --dry-run\n"
      "  dbsplit split finalize --yes --json",
      [dry_run](Context& ctx) -> Outcome {
        announce(ctx);
        auto session = openSession(ctx);
        return session->runner->run("finalize",
                                    *dry_run ? engine::Mode::kDryRun : engine::Mode::kApply);
      });
  finalize->add_flag("--dry-run", *dry_run, "Print what would be dropped; change nothing");
}

}  // namespace dbsplit::cli
