// The demo's walk. Every step runs as `dbsplit --plan P --dsn D run STEP --yes`
// in a child process (child.h), exactly as a DBA would type it; the demo only
// narrates, keeps the services running and checks the result. The parts of
// the walk are in walk.h.
#include "demo/demo.h"

#include "demo/folder.h"
#include "demo/walk.h"
#include "util/time.h"

namespace dbsplit::demo {

util::Outcome Demo::run() {
  if (Workload::services(o_.playbook).empty()) {
    throw Error::usage("unknown_playbook", "unknown playbook \"" + o_.playbook + "\"",
                       "available: ecommerce, users");
  }
  if (o_.split != "schema" && o_.split != "database") {
    throw Error::usage("demo_split_mode", "--split is schema or database");
  }
  if (o_.pgbouncer && !o_.server.empty()) {
    throw Error::usage("demo_pgbouncer_server",
                       "--pgbouncer runs PgBouncer beside the demo's own sandbox, not in front "
                       "of --server",
                       "drop one of them");
  }
  util::parseDurationMillis(o_.window, "--window");
  // A direct connection cannot follow its tables to another database, so in
  // database mode the demo's own sandbox puts PgBouncer in front of the
  // services: they keep their connections through the cutover. (With --server
  // there is no PgBouncer of ours: the services pause for the step instead.)
  const bool pooled_by_default = o_.split == "database" && !o_.pgbouncer && o_.server.empty();
  if (pooled_by_default) o_.pgbouncer = true;
  const auto start = Clock::now();
  work_ = privateFolder(o_.dir);
  db_ = databaseOf(o_.playbook);

  narrate("dbsplit demo: the " + o_.playbook + " playbook",
          "A shared PostgreSQL database with live traffic, broken into per-service\n"
          "ownership in six steps, each run with the real dbsplit command.");
  if (pooled_by_default) {
    say("--split database: the services connect through PgBouncer, so that they keep their "
        "connections when their tables move to another database");
  }
  startServer();
  dsn_ = pg::buildConninfo(server_dsn_, {{"dbname", db_}});
  child_ = pg::childConnection(dsn_);
  loadDatabase();
  writePlan();
  say("plan: " + plan_path_ + " (the playbook, deprecation window " + o_.window + ", split " +
      o_.split + ")");
  ChildResult check = dbsplit({"check"});
  requireOk(check, "dbsplit check");
  say("$ dbsplit check   -> plan valid, database ready");

  workload_ = std::make_unique<Workload>(o_.playbook, serviceDsns(false, false), o_.rate);
  workload_->start();
  narrate("the services",
          fmt::format("{} simulated services, one connection each as their own role, {} tx/s:\n"
                      "their own writes plus direct reads of each other's tables.",
                      Workload::services(o_.playbook).size(), o_.rate));
  pause(5);
  showServices(fmt::format("after {:g} s", 5 * o_.pace));

  runStep("catalogue",
          "Who reads and writes what, from pg_stat_statements (per role = per service).");
  showCoupling();
  runStep("ownership",
          "Each service gets a group role and a schema; the owner's group owns its tables;\n"
          "writes by anyone else are revoked, except fulfillment's waived write-back of\n"
          "orders.status, which keeps working until step 5.");
  workload_->ledger().nextEpoch();
  runStep("outbox",
          "Owners publish: triggers write one event per row change into <owner>.outbox,\n"
          "in the same transaction as the change.");
  outbox_epoch_ = workload_->ledger().nextEpoch();
  pause(3);
  showEvents();
  createConsumerDatabases();
  runStep("projections",
          "Consumers get their own copies: projection tables backfilled from one\n"
          "snapshot, then kept current by the relay from the outboxes.");
  startRelays();
  pause(2);
  workload_->pause();
  // The waived write-back stops with the direct reads: step 5 revokes it too
  // (orders marks its orders shipped from the shipment events itself).
  workload_->stopForeignWrites();
  workload_->resume(serviceDsns(false, true));
  workload_->switchToProjections();
  say("consumers now read their projections; fulfillment's waived write-back stops");
  storeCatalogueSnapshot("the consumers' direct reads stop here");
  switched_at_ = Clock::now();
  pause(3);
  showServices("on projections");
  compare();
  waitDeprecationWindow();
  runStep("revoke",
          "Gates: a clean compare since the relay started, and zero direct reads by the\n"
          "consumers over the deprecation window. Then their direct access goes.");
  if (pooledSplit()) {
    cutover_epoch_ = workload_->ledger().nextEpoch();
    runStep("split",
            "Each owner's tables move to its own database (logical replication, fenced\n"
            "cutover) while the services keep writing through the PgBouncer connections\n"
            "they hold: per owner, dbsplit PAUSEs its pool (its transactions wait, no\n"
            "error), fences the source, checks the copy, the on_cutover hook repoints the\n"
            "pool to the owner's database, and RESUME lets the waiting transactions run there.");
  } else if (o_.split == "database") {
    // A direct connection cannot follow its tables to another database: from
    // the fence until it reconnects, its writes fail (docs/steps/split.md).
    workload_->pause();
    cutover_epoch_ = workload_->ledger().nextEpoch();
    runStep("split",
            "Each owner's tables move to its own database (logical replication, fenced\n"
            "cutover). The services connect directly, and a direct connection cannot follow\n"
            "its tables to another database: they pause for the step and reconnect to their\n"
            "new databases after it (with the demo's own sandbox, PgBouncer in front keeps them).");
    say("the services were paused during this step: it ran no transaction of theirs");
    workload_->resume(serviceDsns(true, true));
  } else {
    runStep("split",
            "Each owner's tables move into the owner's schema while the services keep\n"
            "writing through the connections they hold: the owner roles' new search_path\n"
            "comes first, and each moved table leaves a view under its old name for the\n"
            "sessions opened before it.");
    finalizeSchemaSplit();
  }
  pause(3);
  workload_->stop();
  showServices("at the end");
  stopRelays();
  if (o_.drop_event) dropOneEvent();
  finalCatchUp();
  const bool ok = nothingLost();
  const std::int64_t failed = failedDuringSteps();

  narrate("done", fmt::format("in {:.0f} s", secondsSince(start)));
  ChildResult st = dbsplit({"status"});
  for (const auto& e : st.named("step")) {
    std::string status = e.value("status", "");
    // As `dbsplit status` prints it: finalize is run by its own command only.
    if (e.value("standalone", false) && status == "pending") status = "optional";
    say(fmt::format("{:<12} {:<12} {}/{} actions", e.value("step", ""), status,
                    e.value("actions_applied", 0), e.value("actions_total", 0)));
  }
  std::string look = fmt::format("dbsplit --plan {}", plan_path_);
  std::vector<std::string> next;
  if (o_.keep) {
    say("the server keeps running: " + pg::redactDsn(dsn_));
    next = {look + " status", look + " log", look + " report --html " + work_ + "/report.html",
            "psql \"" + pg::redactDsn(dsn_) + "\""};
    if (o_.server.empty()) next.push_back("dbsplit sandbox stop --dir " + sandbox_.dir);
  } else {
    if (o_.server.empty()) {
      sandbox::stop(sandbox_);
      say("sandbox stopped (dbsplit demo --keep leaves it running to look around)");
    } else {
      cleanupServer();
    }
    next = {"dbsplit demo --keep   (then: dbsplit status, log, report --html FILE)"};
  }
  if (failed > 0) {
    throw Error::stepFailed("demo_failed_transactions",
                            fmt::format("{} application transaction(s) failed while dbsplit "
                                        "changed the database (see the lines above)",
                                        failed),
                            "this is a bug in dbsplit: please report it");
  }
  if (!ok) {
    throw Error::stepFailed("demo_lost_writes",
                            "the nothing-lost check failed: committed writes are not where they "
                            "belong (see the lines above)",
                            o_.drop_event ? "DBSPLIT_DEMO_DROP_EVENT=1 dropped an event on purpose"
                                          : "this is a bug in dbsplit: please report it");
  }
  util::Outcome outcome{ExitCode::kOk, next};
  outcome.extra = {{"writes", workload_->ledger().writes()}};
  return outcome;
}

util::Outcome runDemo(const DemoOptions& options, util::Reporter& out) {
  Demo demo(options, out);
  return demo.run();
}

}  // namespace dbsplit::demo
