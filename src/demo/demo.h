// `dbsplit demo`: the whole playbook on a live database with traffic. Starts
// a sandbox (or uses --server), loads a playbook's shared database, runs its
// simulated services (workload.h) and walks the six steps by running the real
// dbsplit commands as child processes, narrating each. It ends with the
// "nothing lost" check (check.h).
//
// DBSPLIT_DEMO_DROP_EVENT=1 (a testing aid, like DBSPLIT_FAULT) deletes one
// outbox event before the final relay catch-up, so the check must fail.
#pragma once

#include <string>

#include "util/outcome.h"
#include "util/reporter.h"

namespace dbsplit::demo {

struct DemoOptions {
  // Empty: a new private folder under $TMPDIR (folder.h). As root the server
  // runs as `postgres`, which must reach it.
  std::string dir;
  int port = 54330;
  std::string server;  // a superuser DSN of an existing server instead of a sandbox
  bool keep = false;
  std::string playbook = "ecommerce";
  std::string split = "schema";  // [step.split] mode
  std::string window = "15s";    // [step.revoke] deprecation_window in the demo
  double rate = 50;              // transactions per second, all services together
  // Multiplies the pauses in which the services run between steps (5 s before
  // the catalogue, 3 s after the outbox, ...); the test suite shortens them.
  double pace = 1;
  bool drop_event = false;  // DBSPLIT_DEMO_DROP_EVENT
  bool pgbouncer = false;   // the services connect through PgBouncer (sandbox only)
};

util::Outcome runDemo(const DemoOptions& options, util::Reporter& out);

}  // namespace dbsplit::demo
