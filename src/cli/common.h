// What most commands share: load the plan (exit 2 on any problem, before
// anything else happens), resolve the DSN, and build the engine.
#pragma once

#include <memory>
#include <string>

#include "cli/app.h"
#include "engine/runner.h"
#include "plan/plan.h"

namespace dbsplit::cli {

struct Workspace {
  plan::Plan plan;
  std::unique_ptr<engine::Runner> runner;
};

plan::Plan loadPlan(Context& ctx);
// --dsn, else [migration].database (empty: libpq's PG* variables apply).
std::string resolveDsn(Context& ctx, const plan::Plan& plan);
std::unique_ptr<Workspace> openSession(Context& ctx);

// Asks on the terminal; empty function when stdin is not a TTY.
std::function<bool(const std::string&)> terminalAsker();

}  // namespace dbsplit::cli
