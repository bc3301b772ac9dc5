// A bare libpq connection (plain.h).
#include "pg/plain.h"

#include <libpq-fe.h>

#include "fmt/format.h"
#include "pg/conninfo.h"
#include "util/error.h"
#include "util/text.h"

namespace dbsplit::pg {
namespace {

std::string trimmed(const char* message) {
  std::string s = message ? message : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return util::redactSecrets(s);
}

}  // namespace

std::unique_ptr<PlainConnection> PlainConnection::connect(const std::string& dsn,
                                                          const std::string& application,
                                                          int connect_timeout_s) {
  const std::string conninfo = buildConninfo(
      dsn,
      {{"application_name", application}, {"connect_timeout", std::to_string(connect_timeout_s)}});
  PGconn* conn = PQconnectdb(conninfo.c_str());
  if (conn == nullptr || PQstatus(conn) != CONNECTION_OK) {
    std::string why = trimmed(conn ? PQerrorMessage(conn) : "out of memory");
    if (conn) PQfinish(conn);
    throw Error(ExitCode::kPrecondition, "connection_failed",
                fmt::format("cannot connect to {}: {}", redactDsn(dsn), why));
  }
  return std::unique_ptr<PlainConnection>(new PlainConnection(conn, redactDsn(dsn)));
}

PlainConnection::~PlainConnection() { PQfinish(conn_); }

std::vector<std::map<std::string, std::string>> PlainConnection::query(const std::string& sql) {
  PGresult* r = PQexec(conn_, sql.c_str());
  const ExecStatusType status = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
    std::string why = trimmed(r ? PQresultErrorMessage(r) : PQerrorMessage(conn_));
    PQclear(r);
    throw Error(ExitCode::kStepFailed, "pg_error",
                fmt::format("{} on {}: {}", sql, redacted_, why));
  }
  std::vector<std::map<std::string, std::string>> rows;
  for (int i = 0; i < PQntuples(r); ++i) {
    std::map<std::string, std::string> row;
    for (int c = 0; c < PQnfields(r); ++c) row[PQfname(r, c)] = PQgetvalue(r, i, c);
    rows.push_back(std::move(row));
  }
  PQclear(r);
  return rows;
}

}  // namespace dbsplit::pg
