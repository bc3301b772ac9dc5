// pg_dump as a library call: the schema of a database as text, the yardstick
// of "rollback is exact" (DESIGN §5.5).
#pragma once

#include <string>

namespace dbsplit::pg {

// `pg_dump --schema-only` of the database `dsn` names, with a fixed
// --restrict-key so that two dumps of the same schema are byte-identical.
// REQUIRES: `dsn` holds no password (it would be visible in the process list);
// use ~/.pgpass or PGPASSWORD. Throws Error(kStepFailed, "pg_dump_failed").
std::string schemaDump(const std::string& bindir, const std::string& dsn);

}  // namespace dbsplit::pg
