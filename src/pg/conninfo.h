// libpq connection strings (URI or key=value, DESIGN §4). Parsing goes through
// libpq itself (PQconninfoParse) so dbsplit accepts exactly what psql accepts;
// PG* environment variables and ~/.pgpass keep working because libpq applies
// them at connect time.
#pragma once

#include <map>
#include <string>

namespace dbsplit::pg {

// A value for a libpq key=value string, quoted (with \\ escapes) only when it
// must be: spaces, quotes, backslashes, tabs or newlines, or empty.
std::string quoteConninfoValue(const std::string& value);

// key=value pairs of `dsn` with their values; throws Error(kUsage, "bad_dsn")
// when libpq cannot parse it (the message never echoes a password).
std::map<std::string, std::string> parseConninfo(const std::string& dsn);

// A key=value connection string: `dsn` with `overrides` applied. Values are
// quoted for libpq. Holds the password when the dsn had one: never print it.
std::string buildConninfo(const std::string& dsn,
                          const std::map<std::string, std::string>& overrides);

// How a child program (pg_dump, pg_restore, psql) connects: `conninfo` has no
// password; the password, if the dsn had one, is in `env` as PGPASSWORD, so it
// never shows on a command line (util::Environment).
struct ChildConnection {
  std::string conninfo;
  std::map<std::string, std::string> env;
};
ChildConnection childConnection(const std::string& dsn);

// What may be shown to people and stored in the journal: the dsn without its
// password ("host=/tmp port=5432 dbname=shop user=app"), or "(PG* environment)"
// when it is empty.
std::string redactDsn(const std::string& dsn);

}  // namespace dbsplit::pg
