// dbsplit walk: guided mode. The loop a DBA runs on a real database: status,
// then what the next step does and its gates, then a choice -- apply, dry-run,
// rehearse, roll back the last applied step, show the SQL, quit. Every choice is the
// engine's own Runner call (the same as `run`, `rollback`, `plan`), so the
// walk adds no behaviour of its own; errors are shown and the loop goes on.
#include <unistd.h>

#include <iostream>

#include "cli/app.h"
#include "cli/common.h"
#include "fmt/format.h"
#include "journal/journal.h"
#include "steps/registry.h"

namespace dbsplit::cli {
namespace {

struct Position {
  std::string next;          // first step not applied ("" when all are)
  std::string last_applied;  // latest applied step ("" when none)
};

Position position(const plan::Plan& plan) {
  std::unique_ptr<journal::Journal> j;
  if (journal::Journal::exists(plan.migration.journal)) {
    j = journal::Journal::open(plan.migration.journal, journal::Journal::Mode::kReadOnly);
  }
  Position p;
  for (const auto* step : steps::registry()) {
    if (step->standalone()) continue;
    auto rec = j ? j->step(step->name()) : std::nullopt;
    bool applied = rec && rec->status == journal::StepStatus::kApplied;
    if (applied) {
      p.last_applied = step->name();
    } else if (p.next.empty()) {
      p.next = step->name();
    }
  }
  return p;
}

// Runs one engine call, showing an error and carrying on (exit codes matter to
// scripts, not to a person at the prompt).
void attempt(Context& ctx, const std::function<util::Outcome()>& fn) {
  try {
    util::Outcome o = fn();
    for (const auto& n : o.next_steps) ctx.out.say("   next: " + n);
  } catch (const Error& e) {
    ctx.out.error(e);
  }
}

Outcome runWalk(Context& ctx) {
  if (ctx.out.json()) {
    throw Error::usage("walk_json", "dbsplit walk is interactive; --json does not apply",
                       "for scripts: dbsplit status / plan STEP / run STEP --json");
  }
  if (isatty(STDIN_FILENO) != 1) {
    throw Error::usage("walk_no_tty", "dbsplit walk needs a terminal on stdin",
                       "for scripts: dbsplit run STEP --yes");
  }
  // The first screen fits one terminal: status, what the next step does in a
  // few lines, its gates; the SQL only when asked for ([s]).
  bool show_preview = true, show_sql = false;
  for (;;) {
    auto ws = openSession(ctx);
    Position pos = position(ws->plan);
    if (show_preview) {
      ctx.out.say("\n== status");
      attempt(ctx, [&] { return ws->runner->status(); });
    }
    if (pos.next.empty()) {
      ctx.out.say(
          "\nEvery step is applied. `dbsplit split finalize` is the one irreversible "
          "command left; it is not offered here.");
    } else if (show_sql) {
      ctx.out.say(fmt::format("\n== next step: {}: its SQL (forward, inverse, locks)", pos.next));
      attempt(ctx, [&] { return ws->runner->showPlan(pos.next); });
    } else if (show_preview) {
      ctx.out.say(fmt::format("\n== next step: {}", pos.next));
      attempt(ctx, [&] { return ws->runner->preview(pos.next); });
    }
    show_preview = show_sql = false;
    std::string menu = "\n";
    if (!pos.next.empty()) {
      menu += fmt::format("[a]pply {0}  [d]ry-run {0}  [r]ehearse {0}  [s]how SQL  ", pos.next);
    }
    if (!pos.last_applied.empty()) menu += fmt::format("[b]ack: roll back {}  ", pos.last_applied);
    menu += "[q]uit\n> ";
    std::cout << menu << std::flush;
    std::string answer;
    if (!std::getline(std::cin, answer)) break;
    const char c = answer.empty() ? ' ' : answer[0];
    if (c == 'q') break;
    if (!pos.next.empty() && c == 'a') {
      attempt(ctx, [&] { return ws->runner->run(pos.next, engine::Mode::kApply); });
      show_preview = true;
    } else if (!pos.next.empty() && c == 'd') {
      attempt(ctx, [&] { return ws->runner->run(pos.next, engine::Mode::kDryRun); });
    } else if (!pos.next.empty() && c == 'r') {
      attempt(ctx, [&] { return ws->runner->run(pos.next, engine::Mode::kRehearse); });
    } else if (!pos.next.empty() && c == 's') {
      show_sql = true;
    } else if (!pos.last_applied.empty() && c == 'b') {
      attempt(ctx, [&] { return ws->runner->rollback(pos.last_applied); });
      show_preview = true;
    } else {
      ctx.out.say("   ? type one of the letters in brackets");
    }
  }
  Position pos = position(loadPlan(ctx));
  std::vector<std::string> next;
  if (!pos.next.empty()) next.push_back("dbsplit walk   (" + pos.next + " is next)");
  return {ExitCode::kOk, next};
}

}  // namespace

void addWalkCommand(CLI::App& app, AppState& state) {
  addCommand(app, state, "walk", "Guided mode: status, the next step's plan, then a choice",
             "  The interactive loop for a DBA on a live database. Shows the status and, in\n"
             "  a few lines, what the next step does (actions per kind, locks) with its\n"
             "  gates evaluated now, then asks:\n"
             "    a  apply the next step          d  dry-run it (changes nothing)\n"
             "    r  rehearse it (BEGIN ... ROLLBACK, reports locks)\n"
             "    b  roll back the last applied step\n"
             "    s  show the next step's SQL        q  quit\n"
             "  Each choice is exactly `dbsplit run STEP [--dry-run|--rehearse]` or\n"
             "  `dbsplit rollback STEP`: same engine, same journal, same confirmations.\n"
             "  Needs a terminal.",
             "  dbsplit --plan shop.toml walk",
             [](Context& ctx) -> Outcome { return runWalk(ctx); });
}

}  // namespace dbsplit::cli
