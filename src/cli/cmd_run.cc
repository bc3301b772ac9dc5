// dbsplit run STEP|--next|--all [--dry-run|--rehearse]
#include "cli/app.h"
#include "cli/common.h"
#include "steps/registry.h"
#include "util/text.h"

namespace dbsplit::cli {

void addRunCommand(CLI::App& app, AppState& state) {
  struct Options {
    std::string step;
    bool next = false;
    bool all = false;
    bool dry_run = false;
    bool rehearse = false;
  };
  auto opts = std::make_shared<Options>();
  CLI::App* cmd =
      addCommand(app, state, "run", "Run a step: apply it, dry-run it or rehearse it",
                 "  Plans STEP against the live catalog and carries out its actions in order.\n"
                 "  Each action runs in its own transaction under a short lock_timeout (retried\n"
                 "  with backoff), writes its marker to dbsplit.applied in that transaction, and\n"
                 "  is journaled before and after. If an action fails, the actions this run\n"
                 "  applied are rolled back and the command exits 1.\n"
                 "  --dry-run opens a read-only session and prints every action's forward SQL,\n"
                 "  inverse SQL and lock; it writes nothing anywhere, not even the journal.\n"
                 "  --rehearse runs the transactional actions inside BEGIN ... ROLLBACK and\n"
                 "  reports the locks each took, rows touched and time.",
                 "  dbsplit run ownership --dry-run\n"
                 "  dbsplit run ownership --rehearse\n"
                 "  dbsplit run --next --yes --json",
                 [opts](Context& ctx) -> Outcome {
                   if (opts->dry_run && opts->rehearse) {
                     throw Error::usage("usage", "--dry-run and --rehearse exclude each other");
                   }
                   int chosen = (!opts->step.empty()) + opts->next + opts->all;
                   if (chosen != 1) {
                     throw Error::usage("usage", "name one STEP, or --next, or --all",
                                        "steps: see `dbsplit status`");
                   }
                   auto session = openSession(ctx);
                   engine::Mode mode = opts->dry_run    ? engine::Mode::kDryRun
                                       : opts->rehearse ? engine::Mode::kRehearse
                                                        : engine::Mode::kApply;
                   if (opts->next) return session->runner->runNext(mode);
                   if (opts->all) return session->runner->runAll(mode);
                   return session->runner->run(opts->step, mode);
                 });
  cmd->add_option("step", opts->step, "The step to run")->type_name("STEP");
  cmd->add_flag("--next", opts->next, "Run the first step that is not applied");
  cmd->add_flag("--all", opts->all, "Run every step that is not applied, in order");
  cmd->add_flag("--dry-run", opts->dry_run, "Print what would run; change nothing");
  cmd->add_flag("--rehearse", opts->rehearse, "Run inside BEGIN ... ROLLBACK; report locks");
}

}  // namespace dbsplit::cli
