// Database mode of the split step: per service with a `database`, what the
// source and target look like (gates: wal_level, replication privilege,
// replica identity, target empty or creatable, objects outside the schema)
// and the actions that copy the schema, replicate and cut over. The actions
// that move data or wait are movers (src/replication, src/cutover) the engine
// calls by name. Catalog reads: database_catalog.cc; gates (pure, over the
// facts): database_gates.cc; actions: database_actions.cc.
#pragma once

#include <string>
#include <vector>

#include "engine/action.h"
#include "engine/step.h"
#include "journal/journal.h"
#include "pg/session.h"
#include "plan/plan.h"
#include "steps/split/schema.h"

namespace dbsplit::steps::split {

// A write privilege on a service relation, revoked by the fence and granted back by its inverse.
struct WriteGrant {
  std::string relation;  // quoted, as the relation is named after the move
  std::string grantee;   // role name, or "" for PUBLIC (grantee oid 0)
  std::vector<std::string> privileges;
  bool grantable = false;
};

struct TargetFacts {
  std::string service;
  std::string dsn;       // as in the plan (may hold a password: never print)
  std::string redacted;  // for people and the journal
  std::string dbname;
  std::string error;  // why the server could not be reached
  bool exists = false;
  bool same_cluster = false;  // same system identifier as the source
  bool superuser = false;
  int server_version = 0;              // server_version_num there
  bool create_subscription = false;    // superuser, or pg_create_subscription (16+)
  std::vector<std::string> not_empty;  // what is in it ("schema x", "table public.t", ...)
  // The service's schema is already there, holding only what step 4 put there
  // for the service as a consumer (its projections and relay tables): the copy
  // goes into it, and its rollback drops exactly what was copied (`copied`).
  bool schema_exists = false;
  std::vector<std::string> copied;        // DROP statements, in order, for the rollback
  std::vector<std::string> source_names;  // relation names the copy creates in the schema
  std::vector<std::string> publish;       // quoted relations to publish (after the move)
  std::vector<WriteGrant> fence;
  std::vector<RolePath> paths;  // owner roles' search_path in the target database
  // On another server (roles are cluster-wide): the roles the copied schema
  // and the service's connections need there, and those it lacks. The paths
  // are then read and set on that server (`paths_remote`).
  std::vector<std::string> roles_needed;
  std::vector<std::string> missing_roles;
  bool paths_remote = false;
  // Where the subscription's workers run: the target's system identifier, or
  // its host and port when that cannot be read; and how many more logical
  // replication workers that server can start (-1: unknown).
  std::string server;
  int free_workers = -1;
  // The service's replication slot (replicationName): slot names are
  // cluster-wide, so another database's slot of that name (another migration
  // with the same migration and service names on this server) would be taken
  // for this one's. The database it belongs to; empty when the name is free
  // or the slot is this database's own (a resumed run).
  std::string slot_name;
  std::string slot_taken_by;
};

struct DatabaseFacts {
  std::string database;  // the source database's name
  std::string identity;  // sourceIdentity()
  std::string wal_level;
  bool replication = false;  // the source user may create replication slots
  std::string user;
  std::vector<std::string> no_identity;  // relations without a primary key or replica identity
  std::vector<std::string> outside;      // objects the schema copy would leave behind
  // What the source can still give the subscriptions: replication slots and
  // WAL senders not in use (-1: unknown).
  int free_slots = -1;
  int free_senders = -1;
  std::vector<TargetFacts> targets;
};

// Services that move to their own database: in database mode, each with a
// `database`, owning at least one plan table.
std::vector<const plan::Service*> movingServices(const plan::Plan& plan);

DatabaseFacts readDatabaseFacts(pg::Session& catalog, const plan::Plan& plan, const SchemaPlan& sp);
// Pure: every database-mode gate from the facts.
std::vector<engine::Gate> databaseGates(const DatabaseFacts& facts);
std::vector<engine::Action> databaseActions(const plan::Plan& plan, const DatabaseFacts& facts);

// The service's `database` laid over the catalog session's DSN (without its
// password; libpq's ~/.pgpass applies), as the engine does (engine/targets.h).
std::string targetDsn(pg::Session& catalog, const plan::Service& service);

// The source database's identity, "<oid>/<name>": what makes the replication
// names of one plan differ between two databases of one cluster (staging and
// production), since replication slots are cluster-wide.
std::string sourceIdentity(pg::Session& catalog);

// The name of the publication, slot and subscription of one service:
// `dbsplit_<migration>_<service>_<8 hex of the source identity's sha256>`
// folded to [a-z0-9_], at most 63 bytes.
std::string replicationName(const std::string& migration, const std::string& service,
                            const std::string& source_identity);

// The name the split step journaled for `service` (its movers' arguments), or
// "" when the split step holds none: finalize drops what the split made, even
// when it was named by an older build.
std::string journaledReplicationName(const journal::Journal& journal, const std::string& service);

// The comment dbsplit puts on a database it creates for a service: only a
// database with it is taken for dbsplit's own (resumed, or dropped by rollback).
std::string createdDatabaseComment(const std::string& migration, const std::string& service,
                                   const std::string& source_identity);

}  // namespace dbsplit::steps::split
