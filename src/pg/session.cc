#include "pg/session.h"

#include "fmt/format.h"
#include "pg/conninfo.h"
#include "util/text.h"

namespace dbsplit::pg {
namespace {

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// libpq's message for a failed connection names the cause; turn the usual ones
// into a hint that says what to do.
std::string connectHint(const std::string& why) {
  if (why.find("password authentication failed") != std::string::npos ||
      why.find("no password supplied") != std::string::npos) {
    return "check the user and password (PGPASSWORD, ~/.pgpass or the DSN)";
  }
  if (why.find("does not exist") != std::string::npos) {
    return "check the database and role names in the DSN";
  }
  if (why.find("Connection refused") != std::string::npos ||
      why.find("No such file or directory") != std::string::npos ||
      why.find("timeout") != std::string::npos) {
    return "is the server running and reachable? check host and port (or `dbsplit sandbox "
           "start`)";
  }
  return "check the connection string (--dsn or [migration].database) and PG* variables";
}

}  // namespace

std::unique_ptr<Session> Session::connect(const ConnectOptions& options) {
  std::string redacted = redactDsn(options.dsn);
  std::string pgoptions = "-c standard_conforming_strings=on -c client_min_messages=warning";
  if (options.read_only) pgoptions += " -c default_transaction_read_only=on";
  std::string conninfo =
      buildConninfo(options.dsn, {{"application_name", options.application_name},
                                  {"options", pgoptions},
                                  {"connect_timeout", std::to_string(options.connect_timeout_s)}});
  try {
    auto conn = std::make_unique<pqxx::connection>(conninfo);
    return std::unique_ptr<Session>(new Session(std::move(conn), redacted));
  } catch (const std::exception& e) {
    std::string why = util::redactSecrets(trim(e.what()));
    throw Error(ExitCode::kPrecondition, "connection_failed",
                fmt::format("cannot connect to {}: {}", redacted, why), connectHint(why));
  }
}

Session::Session(std::unique_ptr<pqxx::connection> conn, std::string redacted)
    : conn_(std::move(conn)), redacted_dsn_(std::move(redacted)) {}

Session::~Session() {
  try {
    if (conn_) conn_->disconnect();
  } catch (...) {
  }
}

pqxx::result Session::exec(const std::string& sql) {
  try {
    pqxx::nontransaction tx(*conn_);
    return tx.exec(sql);
  } catch (...) {
    rethrowAsError(sql);
  }
}

int Session::backendPid() const { return conn_->backendpid(); }
int Session::serverVersion() const { return conn_->server_version(); }
bool Session::isOpen() const { return conn_ && conn_->is_open(); }

bool Session::ping() {
  try {
    pqxx::nontransaction tx(*conn_);
    tx.exec("SELECT 1");
    return true;
  } catch (...) {
    return false;
  }
}

namespace {

// libpqxx 6.4 constructs some of its specific exceptions without the SQLSTATE
// (insufficient_privilege among them); the type still says which one it was.
std::string sqlstateOf(const pqxx::sql_error& e) {
  if (!e.sqlstate().empty()) return e.sqlstate();
  if (dynamic_cast<const pqxx::insufficient_privilege*>(&e)) return kInsufficientPrivilege;
  if (dynamic_cast<const pqxx::undefined_table*>(&e)) return "42P01";
  if (dynamic_cast<const pqxx::undefined_column*>(&e)) return "42703";
  if (dynamic_cast<const pqxx::undefined_function*>(&e)) return "42883";
  if (dynamic_cast<const pqxx::unique_violation*>(&e)) return "23505";
  if (dynamic_cast<const pqxx::foreign_key_violation*>(&e)) return "23503";
  if (dynamic_cast<const pqxx::not_null_violation*>(&e)) return "23502";
  if (dynamic_cast<const pqxx::check_violation*>(&e)) return "23514";
  if (dynamic_cast<const pqxx::syntax_error*>(&e)) return "42601";
  return {};
}

}  // namespace

void Session::rethrowAsError(const std::string& sql) const {
  try {
    throw;
  } catch (const Error&) {
    throw;
  } catch (const pqxx::sql_error& e) {
    std::string msg = util::redactSecrets(trim(e.what()));
    std::string hint;
    const std::string state = sqlstateOf(e);
    if (state == kInsufficientPrivilege) {
      hint = "the connecting role lacks a privilege; see `dbsplit check` for what each step needs";
    } else if (state == kReadOnlyTransaction) {
      hint = "the server or session is read-only (a standby?); connect to the primary";
    }
    (void)sql;
    throw Error(ExitCode::kStepFailed, "sql_error", msg, hint, state);
  } catch (const pqxx::broken_connection& e) {
    throw Error(ExitCode::kStepFailed, "connection_lost",
                fmt::format("lost the connection to {}: {}", redacted_dsn_,
                            util::redactSecrets(trim(e.what()))),
                "run `dbsplit status`, then `dbsplit resume` when the server is back");
  } catch (const pqxx::in_doubt_error& e) {
    throw Error(ExitCode::kStepFailed, "commit_in_doubt",
                fmt::format("the connection broke during COMMIT: {}", trim(e.what())),
                "run `dbsplit resume`: it checks the markers to learn whether it committed");
  } catch (const std::exception& e) {
    throw Error(ExitCode::kStepFailed, "pg_error", util::redactSecrets(trim(e.what())));
  }
}

}  // namespace dbsplit::pg
