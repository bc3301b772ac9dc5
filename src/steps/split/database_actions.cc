// Actions of the split step's database mode (database.h): create the
// database, copy the schema, publish, subscribe, catch up and cut over. The
// actions that move data or wait are movers (src/replication, src/cutover)
// the engine calls by name.
#include <map>

#include "fmt/format.h"
#include "pgbouncer/movers.h"
#include "replication/endpoints.h"
#include "sql/quote.h"
#include "sql/template.h"
#include "steps/split/database.h"
#include "util/hash.h"
#include "util/text.h"

namespace dbsplit::steps::split {
namespace {

// Hands `a` to a data mover (engine/mover.h) that works in the service's own
// database; its `forward` then only shows what the mover does.
void carriedOutBy(const std::string& mover, const std::string& svc, const std::string& args,
                  engine::Action& a) {
  a.mover = mover;
  a.mover_args = args;
  a.database = svc;
  a.transactional = false;
}

// [step.split] pgbouncer: the service's pools are paused before the fence and
// resumed after the cutover (src/pgbouncer/movers.h), so that applications
// connected through PgBouncer wait instead of meeting the fence.
engine::Action pgbouncerAction(const plan::Plan& plan, const std::string& source_db,
                               const TargetFacts& t, bool pause) {
  std::string pool;
  for (const plan::Service& s : plan.services) {
    if (s.name == t.service) pool = s.pgbouncer_pool;
  }
  nlohmann::json args = {
      {"service", t.service},
      {"pools", pool.empty() ? std::vector<std::string>{} : std::vector<std::string>{pool}},
      {"database", source_db},
      {"target", t.dbname}};
  const std::string which =
      pool.empty() ? "every pool whose server database is " + source_db : "pool " + pool;
  engine::Action a;
  a.mover = pause ? "split.pgbouncer_pause" : "split.pgbouncer_resume";
  a.mover_args = args.dump();
  a.transactional = false;
  a.lock = {"none", ""};
  if (pause) {
    a.id = "split/pgbouncer_pause/" + t.service;
    a.description =
        fmt::format("PgBouncer: PAUSE {} (clients wait, bounded) before the fence", which);
    a.forward = fmt::format(
        "-- mover split.pgbouncer_pause: PAUSE {} on the admin console ([step.split] pgbouncer),\n"
        "-- waiting at most {} ms for its server connections to go idle",
        which, pgbouncer::kPauseBound.count());
    a.inverse = fmt::format(
        "-- mover split.pgbouncer_pause, undone: RESUME {} if it is paused (SHOW DATABASES)",
        which);
  } else {
    a.id = "split/pgbouncer_resume/" + t.service;
    a.description = fmt::format("PgBouncer: RESUME {} after the cutover", which);
    a.forward = fmt::format(
        "-- mover split.pgbouncer_resume: RESUME {} (or, if repointed, every paused pool whose "
        "server database is {}) on the admin console",
        which, t.dbname);
    a.inverse = "SELECT 'RESUME changed nothing to undo';";
  }
  return a;
}

}  // namespace

std::string sourceIdentity(pg::Session& catalog) {
  return catalog
      .scalar(
          "SELECT d.oid::text || '/' || d.datname FROM pg_catalog.pg_database d"
          " WHERE d.datname = pg_catalog.current_database()")
      .value_or("");
}

std::string replicationName(const std::string& migration, const std::string& service,
                            const std::string& source_identity) {
  std::string raw = "dbsplit_" + migration + "_" + service;
  std::string out;
  for (char c : raw) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    out += ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_') ? c : '_';
  }
  // 63 bytes in all: the plan's part, clipped with a hash of its own when too
  // long, then the source database's.
  if (out.size() > 54) out = out.substr(0, 45) + "_" + util::sha256Hex(raw).substr(0, 8);
  return out + "_" + util::sha256Hex(source_identity).substr(0, 8);
}

std::string journaledReplicationName(const journal::Journal& journal, const std::string& service) {
  for (const journal::ActionRecord& a : journal.actions("split")) {
    if (a.id != "split/subscription/" + service || a.mover_args.empty()) continue;
    auto args = nlohmann::json::parse(a.mover_args, nullptr, false);
    if (args.is_object() && args.contains("name") && args["name"].is_string()) {
      return args["name"].get<std::string>();
    }
  }
  return {};
}

std::string createdDatabaseComment(const std::string& migration, const std::string& service,
                                   const std::string& source_identity) {
  return fmt::format("dbsplit: created by migration {} for service {} from database {}", migration,
                     service, source_identity);
}

std::vector<engine::Action> databaseActions(const plan::Plan& plan, const DatabaseFacts& f) {
  std::vector<engine::Action> actions;
  for (const TargetFacts& t : f.targets) {
    const std::string& svc = t.service;
    const std::string name = replicationName(plan.migration.name, svc, f.identity);
    const std::string qname = sql::quoteIdent(name);
    const std::string lname = sql::quoteLiteral(name);
    nlohmann::json argj = {{"service", svc}, {"schema", svc}, {"name", name}};
    if (t.schema_exists) argj["into_existing_schema"] = true;
    const std::string args = argj.dump();
    if (!t.exists) {
      // Created and marked by a mover, so that a database of the same name
      // made by someone else (another migration of the same plan) is never
      // taken for ours, resumed into or dropped by rollback.
      const std::string comment = createdDatabaseComment(plan.migration.name, svc, f.identity);
      engine::Action a;
      a.mover = "split.create_database";
      a.mover_args = nlohmann::json({{"dbname", t.dbname}, {"comment", comment}}).dump();
      a.transactional = false;
      a.id = "split/database/" + svc;
      a.description = fmt::format("create database {} for service {}", t.dbname, svc);
      a.forward = fmt::format(
          "-- mover split.create_database:\nCREATE DATABASE {};\n"
          "COMMENT ON DATABASE {} IS {};",
          sql::quoteIdent(t.dbname), sql::quoteIdent(t.dbname), sql::quoteLiteral(comment));
      a.inverse = "DROP DATABASE " + sql::quoteIdent(t.dbname) + " WITH (FORCE);";
      a.verify = "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_database WHERE datname = " +
                 sql::quoteLiteral(t.dbname) +
                 "\n   AND pg_catalog.shobj_description(oid, 'pg_database') = " +
                 sql::quoteLiteral(comment) + ")";
      a.lock = {"none", ""};
      actions.push_back(std::move(a));
    }
    {
      engine::Action a;
      carriedOutBy("split.copy_schema", svc, args, a);
      a.id = "split/copy_schema/" + svc;
      a.description = fmt::format("copy schema {} (definitions only) into {}", svc, t.redacted);
      a.forward = fmt::format(
          "-- mover split.copy_schema:\n-- pg_dump --schema-only --schema={} <source>\n"
          "--   | psql --single-transaction <{}>",
          sql::quoteIdent(svc), t.redacted);
      a.verify = "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = " +
                 sql::quoteLiteral(svc) + ")";
      a.inverse = "DROP SCHEMA " + sql::quoteIdent(svc) + " CASCADE;";
      if (t.schema_exists) {
        // Step 4 made the schema (the service's projections): the copy goes
        // into it without its schema entry, and the rollback drops exactly
        // what was copied, leaving step 4's objects in place.
        a.forward = fmt::format(
            "-- mover split.copy_schema (into the existing schema {0}):\n"
            "-- pg_dump --schema-only --format=custom --schema={0} <source>\n"
            "--   | pg_restore --single-transaction (without the schema's own entries) <{1}>",
            sql::quoteIdent(svc), t.redacted);
        a.verify = t.publish.empty() ? "SELECT true"
                                     : "SELECT to_regclass(" +
                                           sql::quoteLiteral(t.publish.front()) + ") IS NOT NULL";
        // An interrupted cutover may have left its position behind (the
        // cutover's own inverse runs only once it is done).
        a.inverse = util::join(t.copied, "\n");
        a.inverse += (a.inverse.empty() ? "" : "\n") + std::string("DROP TABLE IF EXISTS ") +
                     sql::quoteQualified(svc, "dbsplit_cutover") + ";";
      }
      a.lock = {"none", "new objects in the target database"};
      actions.push_back(std::move(a));
    }
    for (const RolePath& p : t.paths) {
      // Not transactional so that a rehearsal, which has no target database
      // yet, skips it; verify tells whether it ran.
      engine::Action a = rolePathAction("target_search_path", p, t.dbname);
      a.transactional = false;
      // On another server the setting lives there (roles are cluster-wide).
      if (t.paths_remote) a.database = svc;
      a.verify = fmt::format(
          "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_db_role_setting s\n"
          "                 JOIN pg_catalog.pg_roles r ON r.oid = s.setrole\n"
          "                 JOIN pg_catalog.pg_database d ON d.oid = s.setdatabase\n"
          "                WHERE r.rolname = {} AND d.datname = {}\n"
          "                  AND EXISTS (SELECT 1 FROM unnest(s.setconfig) e\n"
          "                               WHERE starts_with(e, 'search_path=' || "
          "quote_ident({}))))",
          sql::quoteLiteral(p.role), sql::quoteLiteral(t.dbname), sql::quoteLiteral(svc));
      actions.push_back(std::move(a));
    }
    {
      engine::Action a;
      a.id = "split/publication/" + svc;
      a.description = fmt::format("publish the changes of {}'s {} table(s)", svc, t.publish.size());
      a.forward = sql::renderTemplate(
          "split/publication.sql", {{"name", qname}, {"tables", util::join(t.publish, ",\n    ")}});
      a.inverse = "DROP PUBLICATION " + qname + ";";
      a.lock = {"SHARE UPDATE EXCLUSIVE", "each published table"};
      actions.push_back(std::move(a));
    }
    {
      engine::Action a;
      carriedOutBy("split.subscribe", svc, args, a);
      a.id = "split/subscription/" + svc;
      a.description = fmt::format(
          "slot {} on the source, initial copy from its snapshot, and {}'s subscription to it",
          name, t.redacted);
      a.forward = fmt::format(
          "-- mover split.subscribe: a slot with an exported snapshot (replication protocol):\n"
          "CREATE_REPLICATION_SLOT {} LOGICAL pgoutput (SNAPSHOT 'export');\n"
          "-- every published table, up to 4 at once, in that snapshot (the target emptied "
          "first;\n-- session_replication_role = replica there, as the subscription's workers):\n"
          "--   COPY (SELECT <columns> FROM <table>) TO STDOUT  ->  COPY <table> FROM STDIN\n"
          "CREATE SUBSCRIPTION {}\n  CONNECTION '<source DSN>'\n"
          "  PUBLICATION {}\n  WITH (create_slot = false, slot_name = {}, copy_data = false);\n"
          "-- (a target role that is not a superuser: a slot without snapshot, copy_data = true)",
          qname, qname, qname, lname);
      a.verify =
          "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_subscription WHERE subname = " + lname +
          "\n   AND subdbid = (SELECT oid FROM pg_catalog.pg_database WHERE datname = "
          "current_database()))";
      // Undone by the mover's undo (drop the subscription, then the slot on
      // the source); this only shows it.
      a.inverse = "-- mover split.subscribe, undone:\n" +
                  sql::renderTemplate("split/drop_subscription.sql", {{"name", qname}}) +
                  "\n-- then on the source:\n" +
                  sql::renderTemplate("split/drop_slot.sql", {{"slot", lname}});
      a.lock = {"none", ""};
      actions.push_back(std::move(a));
    }
    {
      engine::Action a;
      carriedOutBy("split.catchup", svc, args, a);
      a.id = "split/catchup/" + svc;
      a.description = "wait until every table of " + svc + " is copied and streaming";
      a.forward =
          "-- mover split.catchup: waits for pg_subscription_rel to show every table ready\n"
          "-- and the slot to have streamed past the source's position at its start, showing\n"
          "-- tables synced and lag; then marks the subscription:\n"
          "COMMENT ON SUBSCRIPTION " +
          qname + " IS " + sql::quoteLiteral(replication::kCaughtUpComment) + ";";
      a.verify = fmt::format(
          "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_subscription WHERE subname = {0}\n"
          "                 AND subdbid = (SELECT oid FROM pg_catalog.pg_database\n"
          "                                 WHERE datname = current_database()))\n"
          "   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_subscription_rel r\n"
          "                     JOIN pg_catalog.pg_subscription s ON s.oid = r.srsubid\n"
          "                    WHERE s.subname = {0} AND r.srsubstate <> 'r'\n"
          "                      AND s.subdbid = (SELECT oid FROM pg_catalog.pg_database\n"
          "                                        WHERE datname = current_database()))\n"
          "   AND EXISTS (SELECT 1 FROM pg_catalog.pg_subscription s WHERE s.subname = {0}\n"
          "                 AND s.subdbid = (SELECT oid FROM pg_catalog.pg_database\n"
          "                                   WHERE datname = current_database())\n"
          "                 AND starts_with(pg_catalog.obj_description(s.oid, "
          "'pg_subscription'), 'dbsplit '))",
          lname);
      a.inverse = "COMMENT ON SUBSCRIPTION " + qname + " IS NULL;";
      a.lock = {"none", ""};
      actions.push_back(std::move(a));
    }
    const bool bouncer = !plan.split.pgbouncer.empty();
    if (bouncer) actions.push_back(pgbouncerAction(plan, f.database, t, true));
    {
      engine::Action a;
      a.id = "split/fence/" + svc;
      a.description = "fence: stop every write to " + svc + "'s tables on the source";
      for (const WriteGrant& g : t.fence) {
        std::string grantee = g.grantee.empty() ? "PUBLIC" : sql::quoteIdent(g.grantee);
        a.forward += fmt::format("REVOKE {} ON {} FROM {};\n", util::join(g.privileges, ", "),
                                 g.relation, grantee);
        a.inverse += fmt::format("GRANT {} ON {} TO {}{};\n", util::join(g.privileges, ", "),
                                 g.relation, grantee, g.grantable ? " WITH GRANT OPTION" : "");
      }
      if (a.forward.empty()) a.forward = a.inverse = "SELECT 'no write privileges to fence';";
      a.lock = {"none", "privileges of " + svc + "'s tables"};
      actions.push_back(std::move(a));
    }
    {
      engine::Action a;
      carriedOutBy("split.cutover", svc, args, a);
      a.id = "split/cutover/" + svc;
      a.description = fmt::format(
          "cutover of {}: in-flight writes end, lag zero, sequences "
          "synced, rows verified{}",
          svc, plan.split.on_cutover.empty() ? "" : ", on_cutover hook");
      a.forward =
          "-- mover split.cutover: wait for in-flight writes (bounded), wait for lag zero,\n"
          "-- setval every sequence from the source, compare counts and hashes of every\n"
          "-- table, run [step.split] on_cutover with DBSPLIT_NEW_DSN";
      a.verify = fmt::format(
          "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_subscription s WHERE s.subname = {}\n"
          "   AND s.subdbid = (SELECT oid FROM pg_catalog.pg_database WHERE datname = "
          "current_database())\n"
          "   AND pg_catalog.obj_description(s.oid, 'pg_subscription') LIKE 'dbsplit cutover%')",
          lname);
      // The outbox's cutover position (src/cutover/cutover.h) goes with the mark.
      a.inverse = "DROP TABLE IF EXISTS " + sql::quoteQualified(svc, "dbsplit_cutover") +
                  ";\nCOMMENT ON SUBSCRIPTION " + qname + " IS " +
                  sql::quoteLiteral(replication::kCaughtUpComment) + ";";
      a.lock = {"none", "writes to " + svc + "'s tables are fenced"};
      actions.push_back(std::move(a));
    }
    if (bouncer) actions.push_back(pgbouncerAction(plan, f.database, t, false));
  }
  return actions;
}
}  // namespace dbsplit::steps::split
