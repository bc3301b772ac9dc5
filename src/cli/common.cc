#include "cli/common.h"

#include <unistd.h>

#include <iostream>

#include "steps/registry.h"

namespace dbsplit::cli {

plan::Plan loadPlan(Context& ctx) { return plan::loadPlan(ctx.global.plan_file); }

std::string resolveDsn(Context& ctx, const plan::Plan& plan) {
  return ctx.global.dsn.empty() ? plan.migration.database : ctx.global.dsn;
}

std::function<bool(const std::string&)> terminalAsker() {
  if (isatty(STDIN_FILENO) != 1) return {};
  return [](const std::string& question) {
    std::cerr << question << " [y/N] " << std::flush;
    std::string answer;
    std::getline(std::cin, answer);
    return answer == "y" || answer == "Y" || answer == "yes";
  };
}

std::unique_ptr<Workspace> openSession(Context& ctx) {
  auto s = std::make_unique<Workspace>();
  s->plan = loadPlan(ctx);
  engine::EngineConfig config;
  config.dsn = resolveDsn(ctx, s->plan);
  config.lock_timeout_ms = ctx.global.lock_timeout_ms;
  config.lock_retries = ctx.global.lock_retries;
  config.yes = ctx.global.yes;
  config.ask = terminalAsker();
  s->runner = std::make_unique<engine::Runner>(s->plan, config, ctx.out, steps::registry());
  return s;
}

}  // namespace dbsplit::cli
