// Private to src/journal: the journal's versioned schema. `user_version` holds
// the version; each Migration takes the file from version - 1 to `version` in
// one transaction. A later change appends one entry and bumps kSchemaVersion.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>

namespace dbsplit::journal::internal {

// PRAGMA application_id of every dbsplit journal ("dbsj"): tells a journal apart
// from any other SQLite file before anything is written to it.
constexpr std::int32_t kApplicationId = 0x6462736a;

struct Migration {
  int version;
  const char* sql;
};

// The migrations in order; migration(v) is the one that produces version v.
const Migration& migration(int version);

// Brings the connection's database forward to kSchemaVersion. Throws
// journal_too_new for a newer file and journal_corrupt for a file that is
// neither empty nor a dbsplit journal (re-checked under the write lock).
void migrate(sqlite3* db, const std::string& path);

// True when the file holds nothing yet: no application_id, version 0 and no
// schema objects (a file created by open() whose first migration never ran).
bool isEmptyDatabase(sqlite3* db, const std::string& path);

}  // namespace dbsplit::journal::internal
