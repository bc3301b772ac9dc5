// `dbsplit sandbox start|stop|status`: a throwaway local PostgreSQL for trying
// the playbook, for demos and for the test suite (src/sandbox does the work).
#include <memory>

#include "cli/app.h"
#include "fmt/format.h"
#include "sandbox/sandbox.h"

namespace dbsplit::cli {
namespace {

constexpr const char* kDefaultDir = "./.dbsplit/sandbox";
constexpr int kDefaultPort = 54329;

struct SandboxArgs {
  std::string dir = kDefaultDir;
  int port = kDefaultPort;
  bool no_fsync = false;
  bool pgbouncer = false;
  int pgbouncer_port = 0;  // 0: the sandbox's port + 1
  CLI::App* start = nullptr;
  CLI::App* stop = nullptr;
  CLI::App* status = nullptr;
};

// Quotes a word for a POSIX shell only when it needs it, so next steps can be
// pasted as they are.
std::string shellWord(const std::string& word) {
  if (!word.empty() && word.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                              "0123456789_./-=:,+@%") == std::string::npos) {
    return word;
  }
  std::string out = "'";
  for (char c : word) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string psqlStep(const std::string& dsn) {
  if (dsn.find_first_of("\"$`\\!") == std::string::npos) return "psql \"" + dsn + "\"";
  return "psql " + shellWord(dsn);
}

nlohmann::json eventFor(const char* action, const std::string& state, const sandbox::Status& s) {
  return {{"event", "sandbox"},
          {"action", action},
          {"status", state},
          {"initialized", s.initialized},
          {"running", s.running},
          {"dir", s.dir},
          {"port", s.port},
          {"pid", s.running ? nlohmann::json(s.pid) : nlohmann::json(nullptr)},
          {"dsn", s.dsn},
          {"log", s.log_file},
          {"pgbouncer", s.pgbouncer_port > 0 ? nlohmann::json{{"port", s.pgbouncer_port},
                                                              {"dsn", s.pgbouncer_dsn},
                                                              {"console", s.pgbouncer_console}}
                                             : nlohmann::json(nullptr)}};
}

std::string details(const sandbox::Status& s) {
  std::string out = fmt::format("  dsn: {}\n  log: {}", s.dsn, s.log_file);
  if (s.pgbouncer_port > 0) {
    out += fmt::format("\n  pgbouncer (transaction pooling): {}\n  pgbouncer console: {}",
                       s.pgbouncer_dsn, s.pgbouncer_console);
  }
  return out;
}

Outcome runStart(Context& ctx, const SandboxArgs& args) {
  sandbox::Options options;
  options.dir = args.dir;
  options.durable = !args.no_fsync;
  sandbox::Status before = sandbox::status(options);
  // Without --port, a sandbox keeps the port it was made with.
  bool port_given = args.start->count("--port") > 0;
  options.port = port_given || before.port == 0 || !before.initialized ? args.port : before.port;
  if (args.pgbouncer || args.pgbouncer_port > 0) {
    options.pgbouncer_port = args.pgbouncer_port > 0 ? args.pgbouncer_port : options.port + 1;
  }

  bool already = false;
  sandbox::Status s = sandbox::start(options, &already);
  nlohmann::json ev = eventFor("start", "running", s);
  ev["already_running"] = already;
  ev["created"] = !before.initialized;
  if (!already) ev["durable"] = options.durable;  // a running sandbox keeps its settings
  std::string human = already ? fmt::format("sandbox already running at {} on port {} (pid {})",
                                            s.dir, s.port, s.pid)
                              : fmt::format("sandbox {} at {} on port {} (pid {})",
                                            before.initialized ? "started" : "created and started",
                                            s.dir, s.port, s.pid);
  ctx.out.event(ev, human + "\n" + details(s));
  if (already && port_given && args.port != s.port) {
    ctx.out.warn(
        fmt::format("the sandbox runs on port {}, not {}; stop it first to change its port", s.port,
                    args.port));
  }
  if (already && args.no_fsync) {
    ctx.out.warn("--no-fsync applies at the next start; the running sandbox was left as it is");
  }
  Outcome outcome;
  outcome.next_steps = {psqlStep(s.dsn), "dbsplit sandbox stop --dir " + shellWord(s.dir)};
  return outcome;
}

Outcome runStop(Context& ctx, const SandboxArgs& args) {
  sandbox::Options options;
  options.dir = args.dir;
  sandbox::Status before = sandbox::status(options);
  sandbox::Status s = sandbox::stop(options);
  nlohmann::json ev = eventFor("stop", s.initialized ? "stopped" : "absent", s);
  ev["was_running"] = before.running;
  std::string human;
  if (!s.initialized) {
    human = fmt::format("no sandbox at {}; nothing to stop", s.dir);
  } else if (before.running) {
    human = fmt::format(
        "sandbox stopped at {} (its data is kept; delete the directory to discard it)", s.dir);
  } else {
    human = fmt::format("sandbox at {} was not running; nothing to stop", s.dir);
  }
  ctx.out.event(ev, human);
  Outcome outcome;
  if (s.initialized) outcome.next_steps = {"dbsplit sandbox start --dir " + shellWord(s.dir)};
  return outcome;
}

Outcome runStatus(Context& ctx, const SandboxArgs& args) {
  sandbox::Options options;
  options.dir = args.dir;
  sandbox::Status s = sandbox::status(options);
  std::string state = s.running ? "running" : s.initialized ? "stopped" : "absent";
  std::string human;
  if (s.running) {
    human = fmt::format("sandbox running at {} on port {} (pid {})\n{}", s.dir, s.port, s.pid,
                        details(s));
  } else if (s.initialized) {
    human = fmt::format("sandbox at {} is stopped (port {})", s.dir, s.port);
  } else {
    human = fmt::format("no sandbox at {}", s.dir);
  }
  ctx.out.event(eventFor("status", state, s), human);
  Outcome outcome;
  std::string dir = shellWord(s.dir);
  if (s.running) {
    outcome.next_steps = {psqlStep(s.dsn), "dbsplit sandbox stop --dir " + dir};
  } else {
    outcome.next_steps = {"dbsplit sandbox start --dir " + dir};
  }
  return outcome;
}

void addDirOption(CLI::App* cmd, SandboxArgs& args) {
  cmd->add_option("--dir", args.dir, "Sandbox directory (default ./.dbsplit/sandbox)")
      ->type_name("D");
}

}  // namespace

void addSandboxCommand(CLI::App& app, AppState& state) {
  auto args = std::make_shared<SandboxArgs>();
  CLI::App* cmd = addCommand(
      app, state, "sandbox", "Start, stop or inspect a throwaway local PostgreSQL",
      "  A local PostgreSQL cluster in one directory, for trying the playbook, demos and\n"
      "  tests: data in D/data, the Unix socket in D, the log in D/server.log. It listens\n"
      "  on 127.0.0.1 and the socket, preloads pg_stat_statements (created in every new\n"
      "  database) and runs with wal_level = logical. The superuser is `postgres`, trusted\n"
      "  over the socket. As root, the cluster runs as the `postgres` OS user, which must be\n"
      "  able to reach D.\n"
      "  start   initdb when needed, then start; on a running sandbox, changes nothing.\n"
      "          Without --port, a sandbox keeps the port it was made with.\n"
      "  stop    fast shutdown; the data is kept. Stopping a stopped sandbox is fine.\n"
      "  status  whether it exists and runs, its pid, port and DSN.\n"
      "  With --pgbouncer, start also runs Debian's PgBouncer in front of it (transaction\n"
      "  pooling, its socket in D, port P+1 or --pgbouncer-port), `postgres` on its admin\n"
      "  console; stop stops it first.",
      "  dbsplit sandbox start\n"
      "  dbsplit sandbox start --dir /tmp/shop --port 55432 --no-fsync\n"
      "  psql \"host=$PWD/.dbsplit/sandbox port=54329 user=postgres dbname=postgres\"\n"
      "  dbsplit sandbox start --pgbouncer\n"
      "  dbsplit --json sandbox status\n"
      "  dbsplit sandbox stop",
      [args](Context& ctx) {
        if (args->start->parsed()) return runStart(ctx, *args);
        if (args->stop->parsed()) return runStop(ctx, *args);
        return runStatus(ctx, *args);
      });
  cmd->require_subcommand(1, 1);

  args->start = cmd->add_subcommand("start", "Create (when needed) and start the sandbox");
  addDirOption(args->start, *args);
  args->start->add_option("--port", args->port, "TCP port and socket number (default 54329)")
      ->type_name("P")
      ->check(CLI::Range(1, 65535));
  args->start->add_flag(
      "--no-fsync", args->no_fsync,
      "fsync, synchronous_commit and full_page_writes off: much faster, but a machine crash "
      "can corrupt the cluster. For tests and demos only");
  args->start->add_flag("--pgbouncer", args->pgbouncer,
                        "Also run PgBouncer (transaction pooling) in front of it, on port P+1");
  args->start
      ->add_option("--pgbouncer-port", args->pgbouncer_port,
                   "PgBouncer's port (implies --pgbouncer)")
      ->type_name("P")
      ->check(CLI::Range(1, 65535));

  args->stop = cmd->add_subcommand("stop", "Stop the sandbox (fast shutdown; data is kept)");
  addDirOption(args->stop, *args);

  args->status = cmd->add_subcommand("status", "Show whether the sandbox exists and runs");
  addDirOption(args->status, *args);
}

}  // namespace dbsplit::cli
