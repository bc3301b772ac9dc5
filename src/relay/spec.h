// A [[projection]] resolved against the live source catalog: where it lives
// (the consumer's schema, in the shared database or in the consumer's own
// database when its [[service]] names one), its columns with the source's
// types, its key (unique in the source), and the outbox its events come from.
// Shared by the projections step (planning), the backfill and the relay.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pg/session.h"
#include "plan/plan.h"

namespace dbsplit::relay {

struct ColumnSpec {
  std::string name;
  std::string type;  // format_type() of the source column: "numeric(10,2)", "text", ...
};

struct ProjectionSpec {
  std::string consumer;
  plan::QualifiedName source;    // as the plan names it (and the outbox's source_table)
  plan::QualifiedName location;  // where it is now: `source`, or <owner>.<name> after split
  plan::QualifiedName target;    // <consumer>.<name>
  std::string owner;             // the source's owning service
  plan::QualifiedName outbox;    // <owner>.outbox
  std::vector<ColumnSpec> columns;
  std::vector<std::string> key;
  // Name of the [[service]] whose `database` holds the projection; empty: the
  // migration's database.
  std::string database_service;
  std::string target_dsn;  // that service's database DSN; empty: the migration's
  // The owner's own database when the plan's split runs in database mode and
  // the owner names one (its outbox moves there at the cutover), else empty.
  // The relay watches it for the cutover (readCutover) and follows the outbox.
  std::string owner_dsn;

  std::string id() const { return target.display(); }  // "fulfillment.order_view"
  // The projection's primary key constraint (and index): the name PostgreSQL
  // gives an unnamed PRIMARY KEY, <name>_pkey clipped to 63 bytes at a
  // character boundary. The table is created with it spelled out so that the
  // backfill can drop the key while it copies and add the very same one back.
  std::string primaryKeyName() const;
  const ColumnSpec& column(const std::string& name) const;
};

// Every projection of the plan (of `only_consumer` when not empty), in plan
// order. Throws Error listing every problem at once: exit 2 when the plan
// names a column the source lacks, exit 3 when the database is not ready
// (source missing, key not unique in the source).
// A consumer's `database` is laid over `main_dsn` as the engine does
// (engine/targets.h): "dbname=orders" means the same server, database orders.
std::vector<ProjectionSpec> resolveProjections(const plan::Plan& plan, pg::Session& source,
                                               const std::string& main_dsn,
                                               const std::string& only_consumer = {});

// Error(kPrecondition, "projections_not_ready") listing `problems` (each a
// line of the details), with `hint` saying what to run first.
Error projectionsNotReady(const std::vector<std::string>& problems, const std::string& hint);

// The DSN of a service's `database` laid over the migration's DSN.
std::string serviceDsn(const std::string& main_dsn, const std::string& service_database);

// The owner's own database DSN when the plan's split runs in database mode and
// the owner names a `database`, else empty.
std::string ownerDsn(const plan::Plan& plan, const std::string& main_dsn, const std::string& owner);

// A database-mode split's cutover of an owner's outbox, read in the owner's
// database (`there`), which holds <owner>.outbox. The position (table
// <owner>.dbsplit_cutover, written by split.cutover at the fenced moment,
// marked done with the cutover). `done`: there is a position and the cutover
// completed (the position is marked done) or the source's outbox is gone:
// the owner writes its events there.
struct OutboxCutover {
  bool done = false;
  std::int64_t seq = 0;         // every replicated event has seq <= it, every later one more
  std::string snapshot;         // the owner database server's, taken before the sequence sync
  std::string source_snapshot;  // the source's, taken once the fenced writers had ended
  std::string database;         // current_database() there
};
OutboxCutover readCutover(pg::Session& there, pg::Session& source, const std::string& owner);

// The DSN of `owner`'s own database when a database-mode split has cut the
// owner over there (readCutover().done), else empty.
std::string movedOutboxDsn(const plan::Plan& plan, pg::Session& source, const std::string& main_dsn,
                           const std::string& owner);

// Whether connecting to `dsn` may find its database. False only when `dsn`
// names the source's own server (same host and port as `main_dsn`) and
// pg_database there has no such database: a database-mode split has not
// created it yet. Looking for a cutover then does not connect, which would
// write a FATAL "database does not exist" line in the server log each time.
bool databaseMayExist(pg::Session& source, const std::string& main_dsn, const std::string& dsn);

// The consumers of the plan, in plan order (those with a [[projection]]).
std::vector<std::string> consumers(const plan::Plan& plan);

// The outboxes a consumer's projections read, in plan order ("orders.outbox").
std::vector<std::string> outboxesOf(const std::vector<ProjectionSpec>& specs);

}  // namespace dbsplit::relay
