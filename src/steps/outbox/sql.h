// Pure SQL rendering for the outbox step: from a resolved description of one
// [[event]] (columns already checked against the live catalog) to the DDL the
// engine runs. No database access here, so every shape is unit-testable.
// Every identifier goes through sql::quoteIdent, every value through
// sql::quoteLiteral; the texts come from templates/outbox/.
#pragma once

#include <string>
#include <vector>

#include "plan/qualified_name.h"

namespace dbsplit::steps::outbox {

inline constexpr const char* kRowTrigger = "dbsplit_outbox";
inline constexpr const char* kTruncateTrigger = "dbsplit_outbox_truncate";

struct Column {
  std::string name;
  // false when the type has no default btree equality (json, point, ...): the
  // update check then compares the text forms, which is what the payload shows.
  bool comparable = true;
};

// One [[event]] resolved against the catalog.
struct EventSpec {
  plan::QualifiedName table;
  std::string service;                  // owner: its group role and schema
  std::string aggregate_type;           // "order"
  std::vector<Column> key;              // aggregate id columns (declared, else the primary key)
  std::vector<Column> payload;          // published columns, in table order
  std::vector<std::string> operations;  // insert, update, delete
  bool publish_truncate = false;
};

// `<service>.outbox`
plan::QualifiedName outboxName(const std::string& service);
// The trigger function's name in the service's schema: readable and unique per
// table, at most 63 bytes (`outbox_orders_1a2b3c4d`).
plan::QualifiedName functionName(const EventSpec& e);

// The outbox table's comment: how a later plan recognises the table as ours.
std::string outboxComment(const std::string& service);
std::string createOutboxSql(const std::string& service);
std::string dropOutboxSql(const std::string& service);

std::string createFunctionSql(const EventSpec& e);
std::string dropFunctionSql(const EventSpec& e);

std::string createRowTriggerSql(const EventSpec& e);
std::string dropRowTriggerSql(const EventSpec& e);
// The table's TRUNCATE trigger, and one on each of `partitions` (every level
// below a partitioned table) refusing a TRUNCATE of that partition alone.
std::string createTruncateTriggerSql(const EventSpec& e,
                                     const std::vector<plan::QualifiedName>& partitions);
std::string dropTruncateTriggerSql(const EventSpec& e,
                                   const std::vector<plan::QualifiedName>& partitions);

// A dollar-quote tag ($dbsplit$, $dbsplit_1$, ...) that does not occur in `body`,
// so no identifier in the body can end the function's text early.
std::string dollarTag(const std::string& body);

}  // namespace dbsplit::steps::outbox
