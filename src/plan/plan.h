// The validated migration plan (DESIGN §3). A Plan is immutable once loaded;
// loadPlan() reports every problem at once with file:line:column and throws
// Error(kUsage, "plan_invalid") so that nothing runs on an invalid plan.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "plan/qualified_name.h"

namespace dbsplit::plan {

struct SourcePos {
  std::string file;
  int line = 0;
  int column = 0;
  std::string str() const;  // "file:line:column"
};

struct Migration {
  std::string name;
  std::string database;  // libpq URI or key=value, may be empty (PG* env vars apply)
  std::string journal;   // absolute path after loading (default .dbsplit/<name>.db beside the plan)
  SourcePos pos;
};

struct Service {
  std::string name;
  std::vector<std::string> roles;
  std::string database;  // optional target database for step 6
  // Database mode with [step.split] pgbouncer: the PgBouncer pool (a name in
  // its [databases]) the service's applications connect through; empty = every
  // pool whose server database is the migration's.
  std::string pgbouncer_pool;
  SourcePos pos;
};

struct Table {
  QualifiedName name;
  std::string owner;
  SourcePos pos;
};

struct Event {
  QualifiedName table;
  std::string aggregate_type;
  std::vector<std::string> aggregate_id;  // one or more columns
  std::vector<std::string> columns;       // empty = all but `exclude`
  std::vector<std::string> exclude;
  std::vector<std::string> operations;  // insert, update, delete (default all three)
  bool publish_truncate = false;        // `truncate = "publish"`; default refuse
  SourcePos pos;
};

struct Projection {
  std::string consumer;
  QualifiedName source;
  std::string name;
  std::vector<std::string> columns;
  std::vector<std::string> key;
  SourcePos pos;
};

struct Waiver {
  std::string service;
  QualifiedName table;
  std::string reason;
  // The columns the waived service may UPDATE; empty: those the catalogue saw
  // it write.
  std::vector<std::string> columns;
  SourcePos pos;
};

// A decision about a view or function that spans services: it reads more than
// one service's tables, or a service was seen reading another's table through
// it ([[view]] and [[function]]; step 5's `shared_objects` gate asks for one).
struct SharedObject {
  std::string kind;  // "view" | "function"
  QualifiedName name;
  std::string decision;  // "rebuild" (views) | "revoke" | "keep"
  std::string service;   // rebuild: the consumer that gets its own view of that name
  std::string query;     // rebuild: its SELECT, over the consumer's projections
  std::string reason;    // keep: why it stays readable after step 5
  SourcePos pos;
};

struct RevokeSettings {
  std::string deprecation_window = "7d";
  bool require_compare = true;
  std::string mode = "enforce";  // "enforce" | "observe"
  // The window may pass although the consumers ran no statement at all in it.
  bool acknowledge_idle_window = false;
};

struct SplitSettings {
  std::string mode = "schema";  // "schema" | "database"
  bool allow_unqualified = false;
  std::string on_cutover;
  // DSN of PgBouncer's admin console (may hold a password: never journaled).
  std::string pgbouncer;
};

// [step.catalogue]: where to look for statements ("pg_stat_statements",
// "log:PATH[@service]", "sql:PATH[@service]"); empty = pg_stat_statements.
// Only the syntax is checked here; src/catalogue reads the sources.
struct CatalogueSettings {
  std::vector<std::string> sources;
  std::vector<SourcePos> source_pos;  // index for index with `sources`
};

// Settings of the engine's test-only step (enabled by DBSPLIT_TEST_STEPS=1).
struct SelftestSettings {
  std::vector<std::string> kinds;  // subset of schema, comment, column, index; empty = all
};

struct Plan {
  std::string file;  // absolute path of the plan file
  Migration migration;
  std::vector<Service> services;
  std::vector<Table> tables;
  std::vector<Event> events;
  std::vector<Projection> projections;
  std::vector<Waiver> waivers;
  std::vector<SharedObject> shared;  // [[view]]s, then [[function]]s
  CatalogueSettings catalogue;
  RevokeSettings revoke;
  SplitSettings split;
  SelftestSettings selftest;

  const Service* findService(const std::string& name) const;
  const Table* findTable(const QualifiedName& name) const;
  const Event* findEvent(const QualifiedName& table) const;
  // The [[view]] or [[function]] entries of `kind` deciding about `name`.
  std::vector<const SharedObject*> decisionsFor(const std::string& kind,
                                                const QualifiedName& name) const;
  // The service whose `roles` lists `role`, or nullptr.
  const Service* serviceOfRole(const std::string& role) const;
  // Services that own at least one [[event]]'s table, in plan order: the ones
  // the outbox step gives an outbox.
  std::vector<std::string> publishingServices() const;

  // Canonical form: the same plan written differently (key order, whitespace,
  // comments, quoting) gives the same JSON. Positions are not part of it.
  nlohmann::json canonical() const;
  std::string hash() const;  // sha256 of canonical().dump()
};

// A publishing service's outbox table: <service>.outbox (DESIGN §6).
QualifiedName outboxOf(const std::string& service);

// The longest migration name: "dbsplit/<name>/outbox-prune", the longest
// application_name dbsplit gives its sessions, must fit in 63 bytes, or
// PostgreSQL clips it and dbsplit no longer knows its own sessions (the run
// lock's holder, the catalogue leaving out its own queries).
constexpr std::size_t kMaxMigrationNameBytes = 63 - 8 - 13;

// The name PostgreSQL gives the unnamed PRIMARY KEY of table `name`:
// <name>_pkey, the table name clipped at a character boundary so that the
// whole fits in 63 bytes (NAMEDATALEN - 1).
std::string primaryKeyNameOf(const std::string& name);

// Parses and validates. `path` is used for positions and to resolve the default
// journal path. Throws Error(kUsage, "plan_invalid") with one detail line per
// problem ("file:line:column: message (did you mean \"x\"?)"), or
// Error(kUsage, "plan_unreadable") when the file cannot be read.
Plan loadPlan(const std::string& path);
Plan parsePlan(const std::string& text, const std::string& path);

}  // namespace dbsplit::plan
