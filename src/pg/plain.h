// A bare libpq connection, for servers that speak PostgreSQL's protocol but
// are not PostgreSQL: PgBouncer's admin console. libpqxx refuses them (it
// checks the server version), and they take no startup options and no SET.
// Simple query protocol only; values are text.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

struct pg_conn;

namespace dbsplit::pg {

class PlainConnection {
 public:
  // Throws Error(kPrecondition, "connection_failed"), the DSN redacted.
  static std::unique_ptr<PlainConnection> connect(const std::string& dsn,
                                                  const std::string& application,
                                                  int connect_timeout_s = 10);
  ~PlainConnection();
  PlainConnection(const PlainConnection&) = delete;
  PlainConnection& operator=(const PlainConnection&) = delete;

  // One statement; each row maps a column name to its text ("" for NULL).
  // Throws Error(kStepFailed, "pg_error") with the server's message.
  std::vector<std::map<std::string, std::string>> query(const std::string& sql);

 private:
  PlainConnection(pg_conn* conn, std::string redacted)
      : conn_(conn), redacted_(std::move(redacted)) {}
  pg_conn* conn_;
  std::string redacted_;
};

}  // namespace dbsplit::pg
