// A connection to PostgreSQL (libpqxx underneath). The only place that catches
// libpqxx exceptions: everything leaves as dbsplit::Error with the SQLSTATE, so
// the engine can tell a lock timeout (55P03) from a real failure.
//
// Every session runs with standard_conforming_strings = on (sql::quoteLiteral
// relies on it) and an application_name of the form dbsplit/<migration>/<step>
// (DESIGN §5.1). A read-only session also sets default_transaction_read_only,
// which is how dry-runs guarantee they change nothing.
//
// Thread-safety: one Session per thread.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "pqxx/pqxx"
#include "util/error.h"

namespace dbsplit::pg {

struct ConnectOptions {
  std::string dsn;  // as the user gave it (may be empty: PG* env vars apply)
  std::string application_name = "dbsplit";
  bool read_only = false;
  int connect_timeout_s = 10;
};

// SQLSTATEs the engine reacts to.
inline constexpr const char* kLockNotAvailable = "55P03";
inline constexpr const char* kInsufficientPrivilege = "42501";
inline constexpr const char* kReadOnlyTransaction = "25006";

class Session {
 public:
  // Throws Error(kPrecondition, "connection_failed") with the redacted DSN and
  // libpq's reason when the server cannot be reached or refuses us.
  static std::unique_ptr<Session> connect(const ConnectOptions& options);
  ~Session();

  // Runs `sql` (one or several statements, no parameters) outside any
  // transaction block the session did not open itself.
  pqxx::result exec(const std::string& sql);

  // Runs one statement with bind parameters ($1, $2, ...).
  template <typename... Args>
  pqxx::result execParams(const std::string& sql, Args&&... args) {
    try {
      pqxx::nontransaction tx(*conn_);
      return tx.exec_params(sql, std::forward<Args>(args)...);
    } catch (...) {
      rethrowAsError(sql);
    }
  }

  // First column of the first row as text, nullopt for NULL or no row.
  template <typename... Args>
  std::optional<std::string> scalar(const std::string& sql, Args&&... args) {
    pqxx::result r = execParams(sql, std::forward<Args>(args)...);
    if (r.empty() || r[0][0].is_null()) return std::nullopt;
    return r[0][0].c_str();
  }

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
  Session(std::unique_ptr<pqxx::connection> conn, std::string redacted);

  std::unique_ptr<pqxx::connection> conn_;
  std::string redacted_dsn_;
};

}  // namespace dbsplit::pg
