// The marker table dbsplit.applied (DESIGN §5.3): one row per applied action,
// written in the same transaction as the action's effect, so the database itself
// says what committed. The journal is reconciled against it.
#pragma once

#include <map>
#include <optional>
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

// The same markers with the sha256 each was written with: id -> sha256.
std::map<std::string, std::string> hashes(pg::Session& session, const std::string& migration);

// The step's chain row: written in the migration's own database before a step's
// first action runs, it holds the digest of every action the journal recorded
// for the step (engine/integrity.h), so that a journal edited afterwards is
// caught even for actions that have no marker yet. Its id never collides with
// an action's ("<step>/...").
std::string chainId(const std::string& step);
// REQUIRES: the marker table exists (ensure()) and no transaction is open.
void recordChain(pg::Session& session, const std::string& migration, const std::string& step,
                 const std::string& digest);
// The digest recorded for `step`, if any.
std::optional<std::string> chain(pg::Session& session, const std::string& migration,
                                 const std::string& step);
// Deletes the step's chain row (no-op when absent).
void deleteChain(pg::Session& session, const std::string& migration, const std::string& step);

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
