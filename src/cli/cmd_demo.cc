// dbsplit demo: the playbook on a throwaway sandbox. Until the six steps land
// (their own issues), it shows what exists: a sandbox, the e-commerce shop's
// shared database, `check`, and the engine walking its self-test step through
// rehearse, apply, status and an exact rollback.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "cli/app.h"
#include "cli/common.h"
#include "engine/preflight.h"
#include "fmt/format.h"
#include "pg/conninfo.h"
#include "pg/dump.h"
#include "pg/session.h"
#include "sandbox/sandbox.h"
#include "sql/quote.h"
#include "sql/template.h"
#include "steps/registry.h"

namespace dbsplit::cli {
namespace {

struct DemoOptions {
  // Under /tmp: as root the server runs as `postgres`, which must reach it.
  std::string dir = "/tmp/dbsplit-demo";
  int port = 54330;
  bool keep = false;
  std::string playbook = "ecommerce";
};

std::string absolute(const std::string& path) {
  if (!path.empty() && path[0] == '/') return path;
  char* cwd = ::getcwd(nullptr, 0);
  std::string out = std::string(cwd) + "/" + path;
  std::free(cwd);
  return out;
}

void mkdirs(const std::string& path) {
  for (size_t pos = 1; (pos = path.find('/', pos)) != std::string::npos; ++pos) {
    ::mkdir(path.substr(0, pos).c_str(), 0755);
  }
  ::mkdir(path.c_str(), 0755);
}

void narrate(Context& ctx, const std::string& title, const std::string& text) {
  ctx.out.event({{"event", "demo"}, {"title", title}, {"text", text}},
                fmt::format("\n== {}\n{}", title, text));
}

Outcome runDemo(Context& ctx, const DemoOptions& o) {
  if (o.playbook != "ecommerce") {
    throw Error::usage("unknown_playbook", "unknown playbook \"" + o.playbook + "\"",
                       "available: ecommerce");
  }
  std::string work = absolute(o.dir);
  mkdirs(work);
  narrate(ctx, "1. A throwaway PostgreSQL",
          "dbsplit sandbox start: initdb + pg_ctl in " + work +
              "/sandbox, with "
              "pg_stat_statements and wal_level=logical.");
  sandbox::Options sb;
  sb.dir = work + "/sandbox";
  sb.port = o.port;
  bool already = false;
  sandbox::Status st = sandbox::start(sb, &already);
  ctx.out.say(fmt::format("   {} on port {} ({})", already ? "already running" : "started", st.port,
                          st.dsn));

  narrate(ctx, "2. The shared database",
          "The e-commerce shop of seed 001: six services' tables in one schema, every "
          "service role allowed to read and write all of them.");
  {
    pg::ConnectOptions admin;
    admin.dsn = st.dsn;
    admin.application_name = "dbsplit/demo";
    auto s = pg::Session::connect(admin);
    s->exec("DROP DATABASE IF EXISTS shop WITH (FORCE)");
    s->exec("CREATE DATABASE shop");
  }
  std::string dsn = pg::buildConninfo(st.dsn, {{"dbname", "shop"}});
  {
    pg::ConnectOptions shop;
    shop.dsn = dsn;
    shop.application_name = "dbsplit/demo";
    auto s = pg::Session::connect(shop);
    s->exec(sql::playbookText("ecommerce/schema.sql"));
    ctx.out.say(fmt::format("   loaded: {} orders, {} products",
                            s->scalar("SELECT count(*) FROM public.orders").value_or("?"),
                            s->scalar("SELECT count(*) FROM public.products").value_or("?")));
  }
  std::string plan_path = work + "/dbsplit.toml";
  std::ofstream(plan_path) << sql::playbookText("ecommerce.toml")
                           << "\n# Added by dbsplit demo: the engine self-test touches only "
                              "comments here.\n[step.selftest]\nkinds = [\"comment\"]\n";
  ctx.global.plan_file = plan_path;
  ctx.global.dsn = dsn;

  narrate(ctx, "3. dbsplit check", "The plan validates and the database can take it.");
  auto ws = openSession(ctx);
  for (const auto& r :
       engine::preflight(ws->plan, *pg::Session::connect({dsn, "dbsplit/demo", true, 10}))) {
    ctx.out.say(fmt::format("   {:<5} {:<22} {}", r.status, r.name, r.detail));
  }

  narrate(ctx, "4. The engine, on its self-test step",
          "The six playbook steps arrive in their own releases. Meanwhile the engine shows "
          "its safety rules on a harmless step (a COMMENT per table): rehearse inside "
          "BEGIN ... ROLLBACK, apply with a journal and markers, status, exact rollback.");
  ::setenv("DBSPLIT_TEST_STEPS", "1", 1);
  ws = openSession(ctx);
  const std::string bindir = sandbox::findBindir();
  const std::string before = pg::schemaDump(bindir, dsn);
  ws->runner->run("selftest", engine::Mode::kRehearse);
  ws->runner->run("selftest", engine::Mode::kApply);
  ws->runner->status();
  ws->runner->rollback("selftest");
  ws->runner->status();
  const std::string after = pg::schemaDump(bindir, dsn);
  if (after != before) {
    throw Error::stepFailed("demo_rollback_inexact",
                            "the schema after rollback differs from the schema before the run",
                            "this is a bug in dbsplit: please report it with `dbsplit log`");
  }
  ctx.out.event({{"event", "demo"},
                 {"title", "rollback is exact"},
                 {"text", "pg_dump --schema-only before and after: identical"},
                 {"bytes", before.size()}},
                fmt::format("   pg_dump --schema-only before the run and after the rollback: "
                            "identical ({} bytes)",
                            before.size()));

  std::vector<std::string> next;
  if (o.keep) {
    ctx.out.say("\nThe sandbox keeps running: " + dsn);
    next = {fmt::format("dbsplit --plan {} status", plan_path),
            fmt::format("dbsplit --plan {} log", plan_path), fmt::format("psql \"{}\"", dsn),
            fmt::format("dbsplit sandbox stop --dir {}", sb.dir)};
  } else {
    sandbox::stop(sb);
    ctx.out.say("\nSandbox stopped.");
    next = {"dbsplit demo --keep   (leaves the sandbox running to look around)"};
  }
  return {ExitCode::kOk, next};
}

}  // namespace

void addDemoCommand(CLI::App& app, AppState& state) {
  auto o = std::make_shared<DemoOptions>();
  CLI::App* cmd =
      addCommand(app, state, "demo", "The playbook on a throwaway sandbox",
                 "  Starts a sandbox PostgreSQL, loads the e-commerce playbook's shared database,\n"
                 "  checks the plan against it and walks the engine through rehearse, apply,\n"
                 "  status and rollback. Everything lives under --dir; nothing else is touched.",
                 "  dbsplit demo\n"
                 "  dbsplit demo --keep --dir /tmp/dbsplit-demo",
                 [o](Context& ctx) -> Outcome { return runDemo(ctx, *o); });
  cmd->add_option("--dir", o->dir, "Working folder (default /tmp/dbsplit-demo)");
  cmd->add_option("--port", o->port, "Sandbox port (default 54330)");
  cmd->add_flag("--keep", o->keep, "Leave the sandbox running");
  cmd->add_option("--playbook", o->playbook, "Playbook (ecommerce)");
}

}  // namespace dbsplit::cli
