// A connection to PostgreSQL (libpqxx underneath, never visible above src/pg:
// statements return pg::Result). The only place that catches libpqxx
// exceptions: everything leaves as dbsplit::Error with the SQLSTATE, so the
// engine can tell a lock timeout (55P03) from a real failure.
//
// Every session runs with standard_conforming_strings = on (sql::quoteLiteral
// relies on it) and an application_name of the form dbsplit/<migration>/<step>
// (DESIGN §5.1). A read-only session also sets default_transaction_read_only,
// which is how dry-runs guarantee they change nothing.
//
// Thread-safety: one Session per thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "pg/result.h"
#include "util/error.h"

namespace dbsplit::pg {

struct ConnectOptions {
  std::string dsn;  // as the user gave it (may be empty: PG* env vars apply)
  std::string application_name = "dbsplit";
  bool read_only = false;
  int connect_timeout_s = 10;
  // dbsplit's own sessions pin search_path to pg_catalog, pg_temp (DESIGN §5.9):
  // no object another role can create is found by an unqualified name in the
  // SQL dbsplit runs. A session that stands in for an application (the demo's
  // services, a test's own SQL) keeps the server's search_path instead.
  bool application = false;
  // PgBouncer's admin console: no startup options, no SET (it refuses both).
  bool console = false;
  // A logical replication connection (replication=database) for walsender
  // commands such as CREATE_REPLICATION_SLOT: simple queries only, like a console.
  bool replication = false;
};

// SQLSTATEs the engine reacts to.
inline constexpr const char* kLockNotAvailable = "55P03";
inline constexpr const char* kInsufficientPrivilege = "42501";
inline constexpr const char* kReadOnlyTransaction = "25006";

// A bind parameter in its text form; nullopt is SQL NULL.
using Param = std::optional<std::string>;

// The text form PostgreSQL parses for each C++ value execParams accepts.
namespace param {
inline Param of(std::nullptr_t) { return std::nullopt; }
inline Param of(const std::string& v) { return v; }
inline Param of(std::string_view v) { return std::string(v); }
inline Param of(const char* v) { return v ? Param(v) : std::nullopt; }
inline Param of(bool v) { return v ? "true" : "false"; }
template <typename T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>, int> = 0>
Param of(T v) {
  return std::to_string(v);
}
Param of(double v);  // shortest text that reads back as the same double
template <typename T>
Param of(const std::optional<T>& v) {
  return v ? of(*v) : std::nullopt;
}
}  // namespace param

class Session {
 public:
  // Throws Error(kPrecondition, "connection_failed") with the redacted DSN and
  // libpq's reason when the server cannot be reached or refuses us.
  static std::unique_ptr<Session> connect(const ConnectOptions& options);
  ~Session();

  // Runs `sql` (one or several statements, no parameters) outside any
  // transaction block the session did not open itself (see pg::Transaction).
  // The result is the last statement's.
  Result exec(const std::string& sql);

  // Runs one statement with bind parameters ($1, $2, ...): strings, numbers,
  // bool, nullptr or an empty std::optional (NULL).
  template <typename... Args>
  Result execParams(const std::string& sql, const Args&... args) {
    return execParamList(sql, {param::of(args)...});
  }
  // The same with a list built at run time.
  Result execParamList(const std::string& sql, const std::vector<Param>& params);

  // First column of the first row as text, nullopt for NULL or no row.
  template <typename... Args>
  std::optional<std::string> scalar(const std::string& sql, const Args&... args) {
    Result r = execParams(sql, args...);
    if (r.empty() || r[0][0].is_null()) return std::nullopt;
    return r[0][0].c_str();
  }

  // Streams the rows of `select_sql` from this session into `table` (with its
  // quoted `column_list`) on `into`, over COPY, without holding them in memory:
  // COPY (select_sql) TO STDOUT here, COPY table (column_list) FROM STDIN there.
  // Each side runs in whatever transaction its session has open. Returns the rows.
  // REQUIRES: `into` has a transaction open (pg::Transaction): a copy that
  // fails part-way may leave the rows sent so far, which its rollback removes.
  // `on_rows`, when given, is called every few thousand rows with the rows sent
  // so far; what it throws aborts the copy.
  std::int64_t copyInto(const std::string& select_sql, Session& into, const std::string& table,
                        const std::string& column_list,
                        const std::function<void(std::int64_t)>& on_rows = {});

  int backendPid() const;
  int serverVersion() const;  // e.g. 150018
  const std::string& redactedDsn() const { return redacted_dsn_; }
  bool isOpen() const;
  // Cheap liveness probe (SELECT 1); false when the connection is gone.
  bool ping();

  // Turns the exception being handled into dbsplit::Error. Must be called from
  // a catch block.
  [[noreturn]] void rethrowAsError(const std::string& sql) const;

 private:
  struct Conn;  // libpqxx's connection (or libpq's, for a console), defined in session.cc
  Result consoleExec(const std::string& sql);
  Session(std::unique_ptr<Conn> conn, std::string redacted);

  std::unique_ptr<Conn> conn_;
  std::string redacted_dsn_;
};

}  // namespace dbsplit::pg
