// What the outbox step reads from the live catalog (read-only session): the
// event tables' columns, primary keys, owners and existing triggers, and each
// service's schema, group role and outbox table.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "pg/session.h"
#include "plan/qualified_name.h"
#include "steps/outbox/sql.h"

namespace dbsplit::steps::outbox {

struct TableFacts {
  std::string owner;  // pg_class.relowner's name
  bool partitioned = false;
  std::vector<Column> columns;  // in attnum order, dropped columns skipped
  std::vector<std::string> primary_key;
  std::vector<std::string> triggers;  // names of dbsplit_outbox* triggers already there
  // Every partition below a partitioned table (tables and partitioned
  // tables, not foreign ones), level by level.
  std::vector<plan::QualifiedName> partitions;
};

struct ServiceFacts {
  bool group_exists = false;
  std::optional<std::string> schema_owner;  // nullopt: no schema named after the service
  bool outbox_exists = false;
  std::string outbox_comment;  // "" when none
};

std::optional<TableFacts> readTable(pg::Session& catalog, const plan::QualifiedName& table);

// A partition of an event table without the TRUNCATE trigger: created after
// the outbox step ran (statement triggers are not cloned), so a TRUNCATE of it
// alone would remove rows without any event. `fix` is the statement that
// guards it.
struct UnguardedPartition {
  std::string table;      // the partitioned table, quoted and qualified
  std::string partition;  // quoted and qualified
  std::string fix;
};
std::vector<UnguardedPartition> unguardedPartitions(pg::Session& catalog);
ServiceFacts readService(pg::Session& catalog, const std::string& service);
bool functionExists(pg::Session& catalog, const plan::QualifiedName& function);

}  // namespace dbsplit::steps::outbox
