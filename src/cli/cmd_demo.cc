// dbsplit demo: the whole playbook on a throwaway sandbox with simulated
// services (src/demo does the work).
#include <cstdlib>
#include <cstring>

#include "cli/app.h"
#include "demo/demo.h"

namespace dbsplit::cli {

void addDemoCommand(CLI::App& app, AppState& state) {
  auto o = std::make_shared<demo::DemoOptions>();
  CLI::App* cmd = addCommand(
      app, state, "demo", "The whole playbook on a sandbox with simulated services",
      "  Starts a sandbox PostgreSQL under --dir (or uses --server), loads a\n"
      "  playbook's shared database (playbooks/<name>/schema.sql), starts its simulated\n"
      "  services -- one thread and one connection per service, logged in as the\n"
      "  service's role, reading and writing each other's tables at a steady rate --\n"
      "  and walks the six steps with the real commands (run catalogue, ownership,\n"
      "  outbox, projections with relay, compare, revoke after a short deprecation\n"
      "  window, split), narrating each. The services keep their connections through\n"
      "  every step (in schema mode the split too; then their pools recycle and\n"
      "  `split finalize` drops the compatibility views). With --pgbouncer they\n"
      "  connect through PgBouncer in transaction pooling; with --split database too\n"
      "  each service has its own pool, which the cutover pauses, repoints to the\n"
      "  service's new database (the on_cutover hook) and resumes: they keep their\n"
      "  connections through it. --split database turns --pgbouncer on by itself (a\n"
      "  direct connection cannot follow its tables to another database); with\n"
      "  --server, where the demo has no PgBouncer of its own, the services pause for\n"
      "  the split and reconnect to their new databases. After each step it prints the\n"
      "  services' failed transactions (expected 0, else exit 1) and the longest one.\n"
      "  It ends by proving that nothing was lost: every write the services\n"
      "  committed is compared with SQL against the owner's table, every projection of\n"
      "  it and the owner's outbox.\n"
      "\n"
      "  DBSPLIT_DEMO_DROP_EVENT=1 (a testing aid) deletes one outbox event before the\n"
      "  final relay catch-up, so that the check must fail (exit 1).",
      "  dbsplit demo\n"
      "  dbsplit demo --keep --dir ~/dbsplit-demo\n"
      "  dbsplit demo --playbook users\n"
      "  dbsplit demo --split database\n"
      "  dbsplit demo --pgbouncer\n"
      "  dbsplit demo --split database --pgbouncer",
      [o](Context& ctx) -> Outcome {
        const char* drop = std::getenv("DBSPLIT_DEMO_DROP_EVENT");
        o->drop_event = drop && std::strcmp(drop, "1") == 0;
        return demo::runDemo(*o, ctx.out);
      });
  cmd->add_option("--dir", o->dir,
                  "Working folder, yours and writable only by you (default: a new private "
                  "folder under $TMPDIR)");
  cmd->add_option("--port", o->port, "Sandbox port (default 54330)");
  cmd->add_option("--server", o->server,
                  "Superuser DSN of an existing server to use instead of a sandbox");
  cmd->add_flag("--keep", o->keep, "Leave the sandbox and the demo database in place");
  cmd->add_option("--playbook", o->playbook, "ecommerce (default) or users")
      ->check(CLI::IsMember({"ecommerce", "users"}));
  cmd->add_option("--split", o->split, "Step 6 mode: schema (default) or database")
      ->check(CLI::IsMember({"schema", "database"}));
  cmd->add_option("--window", o->window, "Deprecation window of the demo (default 15s)");
  cmd->add_option("--rate", o->rate, "Transactions per second, all services (default 50)");
  cmd->add_option("--pace", o->pace,
                  "Multiplies the pauses in which the services run between steps (default 1; "
                  "0.2 walks faster, with less traffic to show)")
      ->check(CLI::Range(0.05, 10.0));
  cmd->add_flag("--pgbouncer", o->pgbouncer,
                "The services connect through PgBouncer (transaction pooling) beside the sandbox; "
                "the split RECONNECTs its pools, and in database mode pauses and repoints each "
                "service's own pool at its cutover");
}

}  // namespace dbsplit::cli
