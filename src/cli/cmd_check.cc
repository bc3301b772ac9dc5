// dbsplit check
#include "cli/app.h"
#include "cli/common.h"
#include "engine/preflight.h"
#include "fmt/format.h"

namespace dbsplit::cli {

void addCheckCommand(CLI::App& app, AppState& state) {
  addCommand(
      app, state, "check", "Validate the plan and preflight the database",
      "  Validates the plan file (every problem at once, each with file:line:column;\n"
      "  exit 2), then connects read-only and checks: server version (13+), a\n"
      "  writable primary, pg_stat_statements, wal_level, the privileges the steps\n"
      "  need, and that every role, table and column the plan names exists. Any\n"
      "  failed check exits 3; warnings do not. Changes nothing.",
      "  dbsplit check\n"
      "  dbsplit --plan playbooks/ecommerce.toml --dsn postgresql:///shop check --json",
      [](Context& ctx) -> Outcome {
        plan::Plan plan = loadPlan(ctx);
        ctx.out.event(
            {{"event", "check"}, {"check", "plan"}, {"status", "pass"}, {"detail", plan.file}},
            fmt::format("  pass  plan             {} ({} services, {} tables)", plan.file,
                        plan.services.size(), plan.tables.size()));
        pg::ConnectOptions options;
        options.dsn = resolveDsn(ctx, plan);
        options.application_name = "dbsplit/" + plan.migration.name + "/check";
        options.read_only = true;
        auto session = pg::Session::connect(options);
        int failed = 0;
        for (const auto& r : engine::preflight(plan, *session)) {
          if (r.status == "fail") ++failed;
          ctx.out.event(
              {{"event", "check"}, {"check", r.name}, {"status", r.status}, {"detail", r.detail}},
              fmt::format("  {:<5} {:<16} {}", r.status, r.name, r.detail));
        }
        if (failed > 0) {
          throw Error::precondition("preflight_failed",
                                    fmt::format("{} check(s) failed; nothing was changed", failed),
                                    "fix what the failed lines say, then `dbsplit check` again");
        }
        return {ExitCode::kOk, {"dbsplit run --next --dry-run"}};
      });
}

}  // namespace dbsplit::cli
