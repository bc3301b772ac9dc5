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
      "  failed check exits 3; warnings do not. A plan whose entries changed under\n"
      "  an applied step (each named with file:line) exits 6. Changes nothing.",
      "  dbsplit check\n"
      "  dbsplit --plan playbooks/ecommerce.toml --dsn postgresql:///shop check --json",
      [](Context& ctx) -> Outcome {
        auto ws = openSession(ctx);
        const plan::Plan& plan = ws->plan;
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
        // The plan against the journal: steps applied from another plan, each
        // changed entry named with its place in the plan file.
        std::vector<std::string> drift;
        for (const auto& d : ws->runner->planDriftNow()) {
          nlohmann::json ev = {{"event", "check"},
                               {"check", "plan_drift"},
                               {"status", "fail"},
                               {"step", d.step},
                               {"detail", d.lines.front()}};
          if (!d.changes.empty()) {
            nlohmann::json changes = nlohmann::json::array();
            for (const auto& c : d.changes) changes.push_back(c.toJson());
            ev["plan_changes"] = changes;
          }
          std::string human =
              fmt::format("  {:<5} {:<16} {}", "fail", "plan_drift", d.lines.front());
          for (size_t i = 1; i < d.lines.size(); ++i) human += "\n        " + d.lines[i];
          ctx.out.event(ev, human);
          drift.insert(drift.end(), d.lines.begin(), d.lines.end());
        }
        if (!drift.empty()) {
          throw Error::drift("plan_drift", "the plan changed under applied steps; nothing changed",
                             "restore the plan those steps ran with, or roll them back first")
              .withDetails(drift);
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
