// The marker table dbsplit.applied (DESIGN §5.3): one row per applied action,
// written in the same transaction as the action's effect, so the database itself
// says what committed. The journal is reconciled against it.
#pragma once

#include <set>
#include <string>

#include "journal/journal.h"
#include "pg/session.h"

namespace dbsplit::engine::markers {

// SQL (with $1 migration, $2 action id, $3 sha256) run inside the action's
// transaction.
extern const char* const kInsert;
extern const char* const kDelete;  // $1 migration, $2 action id

// The same statements with the values quoted in, for a batch that must travel
// in one round trip (no bind parameters in a multi-statement query).
std::string insertSql(const std::string& migration, const std::string& action_id,
                      const std::string& sha256);
std::string deleteSql(const std::string& migration, const std::string& action_id);

// Creates schema dbsplit and its table when missing.
// REQUIRES: a session with no open transaction.
void ensure(pg::Session& session, int lock_timeout_ms);

// Markers of `migration` present in the database (empty when the table does not
// exist).
std::set<std::string> present(pg::Session& session, const std::string& migration);

// Drops the marker table and schema when no marker of any migration is left, so
// that a full rollback leaves the schema exactly as it was (DESIGN §5.5).
void dropIfEmpty(pg::Session& session, int lock_timeout_ms);

// Runs a verify query. An object it names that does not exist (yet) means the
// effect is not there (42P01 undefined table, 3F000 undefined schema, 42883
// undefined function); any other error propagates.
bool verified(pg::Session& session, const std::string& verify);

// True when the action's effect is in the database: its marker for a
// transactional action, its verify query for a non-transactional one.
bool effectPresent(pg::Session& session, const std::set<std::string>& markers,
                   const journal::ActionRecord& action);

}  // namespace dbsplit::engine::markers
