// The command line (DESIGN §4). Each command lives in its own cmd_<name>.cc and
// registers itself with addXxxCommand(); main() parses, builds the Reporter and
// runs the chosen command, turning any dbsplit::Error into its exit code and a
// final `result` event.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "util/error.h"
#include "util/outcome.h"
#include "util/reporter.h"

namespace dbsplit::cli {

struct GlobalOptions {
  std::string plan_file = "dbsplit.toml";
  bool plan_given = false;  // --plan was on the command line
  std::string dsn;          // overrides [migration].database
  bool json = false;
  bool yes = false;
  bool no_progress = false;
  int lock_timeout_ms = 500;
  int lock_retries = 10;
};

using Outcome = util::Outcome;

struct Context {
  GlobalOptions& global;
  util::Reporter& out;
};

using CommandFn = std::function<Outcome(Context&)>;

// Shared state while building the CLI: commands write their runner here when
// their subcommand is the one parsed.
struct AppState {
  GlobalOptions global;
  std::vector<std::pair<CLI::App*, CommandFn>> commands;
};

// Adds global options to `cmd` so they work before or after the command name.
void addGlobalOptions(CLI::App& cmd, GlobalOptions& global);

// Creates a subcommand with man-style help: `description` is the DESCRIPTION
// section, `examples` the EXAMPLES section; both appear in `--help`.
CLI::App* addCommand(CLI::App& app, AppState& state, const std::string& name,
                     const std::string& summary, const std::string& description,
                     const std::string& examples, CommandFn fn);

// Entry point used by main() and by tests. Returns the process exit code.
int runMain(int argc, char** argv);

// Registration, one per command file.
void addSandboxCommand(CLI::App& app, AppState& state);
void addCheckCommand(CLI::App& app, AppState& state);
void addPlanCommand(CLI::App& app, AppState& state);
void addStatusCommand(CLI::App& app, AppState& state);
void addRunCommand(CLI::App& app, AppState& state);
void addRollbackCommand(CLI::App& app, AppState& state);
void addResumeCommand(CLI::App& app, AppState& state);
void addLogCommand(CLI::App& app, AppState& state);
void addDemoCommand(CLI::App& app, AppState& state);
void addCatalogueCommand(CLI::App& app, AppState& state);
void addOutboxCommand(CLI::App& app, AppState& state);
void addWalkCommand(CLI::App& app, AppState& state);
void addReportCommand(CLI::App& app, AppState& state);
void addSplitCommand(CLI::App& app, AppState& state);
void addCompareCommand(CLI::App& app, AppState& state);
void addRelayCommand(CLI::App& app, AppState& state);

}  // namespace dbsplit::cli
