#include "cli/app.h"

#include <unistd.h>

#include <iostream>

#include "fmt/format.h"
#include "util/text.h"

namespace dbsplit::cli {
namespace {

const char* kExitStatus =
    "EXIT STATUS\n"
    "  0 ok   1 step failed   2 usage or invalid plan   3 precondition or gate not met\n"
    "  4 another run holds the lock   5 confirmation needed   6 drift\n";

const char* kGlobalOptions =
    "GLOBAL OPTIONS (before or after the command; see `dbsplit --help`)\n"
    "  --plan FILE  --dsn DSN  --json  --yes  --no-progress  --lock-timeout MS\n"
    "  --lock-retries N\n";

}  // namespace

void addGlobalOptions(CLI::App& cmd, GlobalOptions& g) {
  cmd.add_option_function<std::string>(
         "--plan",
         [&g](const std::string& v) {
           g.plan_file = v;
           g.plan_given = true;
         },
         "Plan file (default ./dbsplit.toml)")
      ->type_name("FILE");
  cmd.add_option("--dsn", g.dsn, "Connection string (libpq URI or key=value); overrides the plan")
      ->type_name("DSN");
  cmd.add_flag("--json", g.json, "JSON Lines on stdout, one event per line");
  cmd.add_flag("--yes,-y", g.yes, "Answer yes to confirmations (needed without a TTY)");
  cmd.add_flag("--no-progress", g.no_progress, "No progress bars");
  cmd.add_option("--lock-timeout", g.lock_timeout_ms,
                 "lock_timeout for each DDL statement, in ms (default 500)")
      ->type_name("MS")
      ->check(CLI::Range(1, 600000));
  cmd.add_option("--lock-retries", g.lock_retries,
                 "tries for a DDL statement that meets a lock timeout (default 10)")
      ->type_name("N")
      ->check(CLI::Range(1, 1000));
}

CLI::App* addCommand(CLI::App& app, AppState& state, const std::string& name,
                     const std::string& summary, const std::string& description,
                     const std::string& examples, CommandFn fn) {
  CLI::App* cmd = app.add_subcommand(name, summary);
  cmd->fallthrough();
  std::string footer = "\nDESCRIPTION\n" + description + "\n";
  if (!examples.empty()) footer += "\nEXAMPLES\n" + examples + "\n";
  footer += std::string("\n") + kGlobalOptions + "\n" + kExitStatus;
  cmd->footer(footer);
  state.commands.emplace_back(cmd, std::move(fn));
  return cmd;
}

int runMain(int argc, char** argv) {
  AppState state;
  CLI::App app{
      "dbsplit: break a shared PostgreSQL database into per-service ownership, "
      "step by step, safely, on a live system."};
  app.name("dbsplit");
  app.require_subcommand(1);
  app.footer(std::string("\nRun `dbsplit COMMAND --help` for a command's manual.\n\n") +
             kExitStatus);
  addGlobalOptions(app, state.global);
  app.set_version_flag("--version", std::string("dbsplit ") + DBSPLIT_VERSION);

  addCheckCommand(app, state);
  addPlanCommand(app, state);
  addStatusCommand(app, state);
  addRunCommand(app, state);
  addRollbackCommand(app, state);
  addResumeCommand(app, state);
  addLogCommand(app, state);
  addCatalogueCommand(app, state);
  addOutboxCommand(app, state);
  addWalkCommand(app, state);
  addReportCommand(app, state);
  addSplitCommand(app, state);
  addCompareCommand(app, state);
  addRelayCommand(app, state);
  addSandboxCommand(app, state);
  addDemoCommand(app, state);

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // One clear line for bad flags, then where to look.
    bool json = false;
    for (int i = 1; i < argc; ++i) json = json || std::string(argv[i]) == "--json";
    util::Reporter out({json, false, false});
    out.error(Error::usage("usage", e.what(), "see `dbsplit --help` or `dbsplit COMMAND --help`"));
    out.result(ExitCode::kUsage, {});
    return toInt(ExitCode::kUsage);
  }

  util::OutputOptions options;
  options.json = state.global.json;
  options.progress = !state.global.no_progress;
  options.stderr_is_tty = isatty(STDERR_FILENO) == 1;
  util::Reporter out(options);
  Context ctx{state.global, out};

  for (auto& [cmd, fn] : state.commands) {
    if (!cmd->parsed()) continue;
    Outcome outcome;
    try {
      outcome = fn(ctx);
    } catch (const Error& e) {
      out.error(e);
      outcome.code = e.code();
    } catch (const std::exception& e) {
      // A bug or an unexpected library error: still one clear line and exit 1.
      out.error(Error::stepFailed("internal", e.what(),
                                  "this is a bug in dbsplit; the journal says what ran"));
      outcome.code = ExitCode::kStepFailed;
    }
    out.result(outcome.code, outcome.next_steps, outcome.extra);
    return toInt(outcome.code);
  }
  return toInt(ExitCode::kUsage);
}

}  // namespace dbsplit::cli
