// A [[projection]] resolved against the live source catalog: where it lives
// (the consumer's schema, in the shared database or in the consumer's own
// database when its [[service]] names one), its columns with the source's
// types, its key (unique in the source), and the outbox its events come from.
// Shared by the projections step (planning), the backfill and the relay.
#pragma once

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
  // The owner's own database once a database-mode split cut the owner over
  // (movedOutboxDsn), else empty. The relay warns; it still reads the source.
  std::string outbox_dsn;

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

// The DSN of a service's `database` laid over the migration's DSN.
std::string serviceDsn(const std::string& main_dsn, const std::string& service_database);

// The DSN of `owner`'s own database when a database-mode split has cut the
// owner over there (its outbox is written there from then on), else empty.
// Detected in the databases: the owner's database holds <owner>.outbox and a
// subscription that dbsplit's cutover marked, or the source's outbox is gone
// (split finalize).
std::string movedOutboxDsn(const plan::Plan& plan, pg::Session& source, const std::string& main_dsn,
                           const std::string& owner);

// The consumers of the plan, in plan order (those with a [[projection]]).
std::vector<std::string> consumers(const plan::Plan& plan);

// The outboxes a consumer's projections read, in plan order ("orders.outbox").
std::vector<std::string> outboxesOf(const std::vector<ProjectionSpec>& specs);

}  // namespace dbsplit::relay
