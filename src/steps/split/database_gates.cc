// Gates of the split step's database mode (database.h): pure functions of
// the collected DatabaseFacts, unit-tested (tests/unit/steps_split_gates_test.cc).
#include <map>

#include "fmt/format.h"
#include "sql/quote.h"
#include "steps/split/database.h"
#include "util/text.h"

namespace dbsplit::steps::split {
namespace {

// Each moving service gets a subscription: a slot and a WAL sender on the
// source, an apply worker on the target's server, and during the initial copy
// a table-sync worker with its own temporary slot and sender. Without room the
// subscription waits silently for a worker and the catch-up never ends, so
// the shortfall is named before anything is created. One spare of each lets
// the copies run one table at a time.
engine::Gate capacityGate(const DatabaseFacts& f) {
  const int n = static_cast<int>(f.targets.size());
  std::vector<std::string> short_of, fine;
  auto check = [&](const std::string& what, int free, int need, const std::string& fix) {
    if (free < 0) return;
    std::string line = fmt::format("{} {} free, {} needed", what, free, need);
    if (free < need) {
      short_of.push_back(line + " (" + fix + ")");
    } else {
      fine.push_back(line);
    }
  };
  check("source: replication slots", f.free_slots, n + 1,
        "raise max_replication_slots, or drop unused slots");
  check("source: WAL senders", f.free_senders, n + 1, "raise max_wal_senders");
  std::map<std::string, std::pair<int, int>> servers;  // server -> (free workers, subscriptions)
  for (const TargetFacts& t : f.targets) {
    if (t.free_workers < 0) continue;
    auto& s = servers[t.server];
    s.first = t.free_workers;
    ++s.second;
  }
  for (const auto& [server, room] : servers) {
    std::string where;
    for (const TargetFacts& t : f.targets) {
      if (t.server == server) where += (where.empty() ? "" : ", ") + t.service;
    }
    check(fmt::format("server of {}: logical replication workers", where), room.first,
          room.second + 1,
          "raise max_logical_replication_workers, and max_worker_processes with it; a restart");
  }
  if (!short_of.empty()) {
    return {"replication_capacity", false,
            fmt::format("{} subscription(s) would wait for resources that are not there: {}", n,
                        util::join(short_of, "; "))};
  }
  return {"replication_capacity", true,
          fmt::format("room for {} subscription(s): {}", n, util::join(fine, "; "))};
}

// Slot names are cluster-wide (publications and subscriptions are per
// database): a slot of the same name in another database would pass for this
// migration's, its subscription would wait for it forever, and its rollback
// would drop it.
engine::Gate slotGate(const DatabaseFacts& f) {
  std::vector<std::string> taken, names;
  for (const TargetFacts& t : f.targets) {
    names.push_back(t.slot_name);
    if (!t.slot_taken_by.empty()) {
      taken.push_back(fmt::format("{} (service {}) belongs to database {}", t.slot_name, t.service,
                                  t.slot_taken_by));
    }
  }
  if (!taken.empty()) {
    return {"replication_slot", false,
            fmt::format("replication slot names are per server and already used: {}; another "
                        "migration of the same name moves a service of the same name on this "
                        "server: give this one another [migration] name (or finish the other "
                        "one and drop its slot)",
                        util::join(taken, "; "))};
  }
  return {"replication_slot", true,
          fmt::format("replication slot name(s) free on the source's server: {}",
                      util::join(names, ", "))};
}

}  // namespace

std::vector<engine::Gate> databaseGates(const DatabaseFacts& f) {
  std::vector<engine::Gate> out;
  out.push_back({"wal_level", f.wal_level == "logical",
                 f.wal_level == "logical"
                     ? "wal_level = logical"
                     : fmt::format("wal_level = {}: logical replication needs ALTER SYSTEM SET "
                                   "wal_level = logical and a server restart",
                                   f.wal_level)});
  out.push_back({"replication_privilege", f.replication,
                 f.replication ? fmt::format("role {} may create replication slots", f.user)
                               : fmt::format("role {} has neither REPLICATION nor SUPERUSER: "
                                             "ALTER ROLE {} REPLICATION (or connect as one that "
                                             "has it)",
                                             f.user, sql::quoteIdent(f.user))});
  out.push_back(
      {"replica_identity", f.no_identity.empty(),
       f.no_identity.empty()
           ? "every moving table has a primary key or a replica identity"
           : fmt::format("{} table(s) have no primary key nor replica identity, so their "
                         "updates and deletes cannot replicate: {} (add a primary key, or "
                         "ALTER TABLE ... REPLICA IDENTITY FULL)",
                         f.no_identity.size(), util::join(f.no_identity, ", "))});
  out.push_back({"schema_self_contained", f.outside.empty(),
                 f.outside.empty()
                     ? "the services' schemas reference nothing outside themselves"
                     : fmt::format("{} reference(s) cross the new database boundary: {}",
                                   f.outside.size(), util::join(f.outside, "; "))});
  out.push_back(capacityGate(f));
  out.push_back(slotGate(f));
  for (const TargetFacts& t : f.targets) {
    engine::Gate g{"target_database", false, ""};
    if (!t.error.empty()) {
      g.evidence = fmt::format("{} ({}): {}", t.service, t.redacted, t.error);
    } else if (t.dbname.empty()) {
      g.evidence = fmt::format("{}: the [[service]] database DSN names no dbname", t.service);
    } else if (!t.create_subscription) {
      g.evidence = t.server_version >= 160000
                       ? fmt::format(
                             "{}: creating a subscription in {} needs a superuser or a member of "
                             "pg_create_subscription there: GRANT pg_create_subscription TO "
                             "<you>; (see docs/managed-postgres.md for the provider's role)",
                             t.service, t.redacted)
                       : fmt::format(
                             "{}: creating a subscription in {} needs a superuser there on "
                             "PostgreSQL {} (pg_create_subscription comes with 16), unless the "
                             "provider makes an exception for its admin role (RDS and Aurora: "
                             "rds_superuser; Cloud SQL: cloudsqlsuperuser with REPLICATION; "
                             "docs/managed-postgres.md); schema mode needs none of this",
                             t.service, t.redacted, t.server_version / 10000);
    } else if (t.exists && !t.not_empty.empty()) {
      g.evidence = fmt::format(
          "{}: database {} is not empty ({}): use a new or empty database (dbsplit's own step-4 "
          "projections of the service may stay)",
          t.service, t.dbname, util::join(t.not_empty, ", "));
    } else if (!t.same_cluster && !t.missing_roles.empty()) {
      g.evidence = fmt::format(
          "{}: {} is on another server, where roles {} do not exist (roles are cluster-wide; "
          "the copied schema and the service's connections need them): create them there "
          "first, as on the source (CREATE ROLE with LOGIN and password for login roles, "
          "GRANT of the group role to its members), and run again",
          t.service, t.redacted, util::join(t.missing_roles, ", "));
    } else if (!t.exists && !t.same_cluster) {
      g.evidence = fmt::format(
          "{}: database {} does not exist on another server: create it "
          "there (empty) and run again",
          t.service, t.dbname);
    } else {
      g.passed = true;
      g.evidence = fmt::format(
          "{}: {} {}", t.service, t.redacted,
          !t.exists         ? "will be created"
          : t.schema_exists ? "holds only the service's projections (step 4): the schema copy goes "
                              "beside them"
                            : "exists and is empty");
    }
    out.push_back(g);
  }
  return out;
}

}  // namespace dbsplit::steps::split
