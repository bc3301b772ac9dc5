#include "pg/session.h"

#include "fmt/format.h"
#include "pg/conninfo.h"
#include "pqxx/pqxx"
#include "pqxx/tablereader"
#include "pqxx/tablewriter"
#include "util/text.h"

namespace dbsplit::pg {

struct Session::Conn {
  explicit Conn(const std::string& conninfo) : c(conninfo) {}
  pqxx::connection c;
};

// Defined in result.cc, which owns the layout of a Result.
Result adoptResult(pqxx::result r);

Param param::of(double v) { return fmt::format("{}", v); }

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
  std::string pgoptions =
      "-c standard_conforming_strings=on -c client_min_messages=warning -c client_encoding=UTF8";
  if (options.read_only) pgoptions += " -c default_transaction_read_only=on";
  std::string conninfo =
      buildConninfo(options.dsn, {{"application_name", options.application_name},
                                  {"options", pgoptions},
                                  {"connect_timeout", std::to_string(options.connect_timeout_s)}});
  try {
    auto conn = std::make_unique<Conn>(conninfo);
    std::unique_ptr<Session> session(new Session(std::move(conn), redacted));
    // CVE-2018-1058: a planted public.unnest(int2[]) would otherwise win over
    // pg_catalog's in an unqualified call. A SET, not a startup option, so
    // pg_settings.reset_val still shows the path applications get (the split
    // step reads it).
    if (!options.application) session->exec("SET search_path = pg_catalog, pg_temp");
    return session;
  } catch (const std::exception& e) {
    std::string why = util::redactSecrets(trim(e.what()));
    throw Error(ExitCode::kPrecondition, "connection_failed",
                fmt::format("cannot connect to {}: {}", redacted, why), connectHint(why));
  }
}

Session::Session(std::unique_ptr<Conn> conn, std::string redacted)
    : conn_(std::move(conn)), redacted_dsn_(std::move(redacted)) {}

Session::~Session() {
  try {
    if (conn_) conn_->c.disconnect();
  } catch (...) {
  }
}

Result Session::exec(const std::string& sql) {
  try {
    pqxx::nontransaction tx(conn_->c);
    return adoptResult(tx.exec(sql));
  } catch (...) {
    rethrowAsError(sql);
  }
}

Result Session::execParamList(const std::string& sql, const std::vector<Param>& params) {
  // libpqxx sends a null `const char*` as NULL.
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const Param& p : params) values.push_back(p ? p->c_str() : nullptr);
  try {
    pqxx::nontransaction tx(conn_->c);
    return adoptResult(tx.exec_params(sql, pqxx::prepare::make_dynamic_params(values)));
  } catch (...) {
    rethrowAsError(sql);
  }
}

int Session::backendPid() const { return conn_->c.backendpid(); }
int Session::serverVersion() const { return conn_->c.server_version(); }
bool Session::isOpen() const { return conn_ && conn_->c.is_open(); }

bool Session::ping() {
  try {
    pqxx::nontransaction tx(conn_->c);
    tx.exec("SELECT 1");
    return true;
  } catch (...) {
    return false;
  }
}

// libpqxx 6.4 reaches the COPY sub-protocol only through tablereader and
// tablewriter (deprecated in favour of stream_from/stream_to, which parse rows
// into tuples: here the raw lines pass through untouched). Both build
// "COPY <name> TO STDOUT" / "COPY <name> FROM STDIN" around the name given.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
std::int64_t Session::copyInto(const std::string& select_sql, Session& into,
                               const std::string& table, const std::string& column_list) {
  const std::string out_sql = "COPY (" + select_sql + ") TO STDOUT";
  const std::string in_sql = "COPY " + table + " (" + column_list + ") FROM STDIN";
  std::int64_t rows = 0;
  bool reading = true;  // whose error is it: this session's or `into`'s
  try {
    pqxx::nontransaction from_tx(conn_->c);
    pqxx::tablereader reader(from_tx, "(" + select_sql + ")");
    reading = false;
    pqxx::nontransaction to_tx(into.conn_->c);
    pqxx::tablewriter writer(to_tx, table + " (" + column_list + ")");
    std::string line;
    for (;;) {
      reading = true;
      if (!reader.get_raw_line(line)) break;
      reading = false;
      writer.write_raw_line(line);
      ++rows;
    }
    reader.complete();
    reading = false;
    writer.complete();
  } catch (...) {
    if (reading) rethrowAsError(out_sql);
    into.rethrowAsError(in_sql);
  }
  return rows;
}
#pragma GCC diagnostic pop

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
