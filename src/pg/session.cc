#include "pg/session.h"

#include "fmt/format.h"
#include "libpq-fe.h"
#include "pg/conninfo.h"
#include "pqxx/pqxx"
#include "pqxx/tablereader"
#include "pqxx/tablewriter"
#include "util/text.h"

namespace dbsplit::pg {

// libpqxx refuses a server that reports a version below 9.0, and PgBouncer's
// admin console reports its own ("1.18.0/bouncer"): console sessions use
// libpq directly (`raw`), with the simple query protocol only.
struct Session::Conn {
  explicit Conn(const std::string& conninfo) : cx(std::make_unique<pqxx::connection>(conninfo)) {}
  explicit Conn(PGconn* console) : raw(console) {}
  ~Conn() {
    if (raw) PQfinish(raw);
  }
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;
  pqxx::connection& c() {
    if (!cx) {
      throw Error(ExitCode::kStepFailed, "pg_error",
                  "PgBouncer's admin console runs simple queries only");
    }
    return *cx;
  }
  std::unique_ptr<pqxx::connection> cx;
  PGconn* raw = nullptr;
};

// Defined in result.cc, which owns the layout of a Result.
Result adoptResult(pqxx::result r);
Result adoptText(std::vector<std::string> names,
                 std::vector<std::vector<std::optional<std::string>>> rows);

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
  std::map<std::string, std::string> params = {
      {"application_name", options.application_name},
      {"connect_timeout", std::to_string(options.connect_timeout_s)}};
  const bool raw = options.console || options.replication;
  if (!raw) params["options"] = pgoptions;
  if (options.replication) params["replication"] = "database";
  std::string conninfo = buildConninfo(options.dsn, params);
  if (raw) {
    PGconn* raw = PQconnectdb(conninfo.c_str());
    auto conn = std::make_unique<Conn>(raw);  // owns it, even when it failed
    if (raw == nullptr || PQstatus(raw) != CONNECTION_OK) {
      std::string why = util::redactSecrets(trim(raw ? PQerrorMessage(raw) : "out of memory"));
      throw Error(ExitCode::kPrecondition, "connection_failed",
                  fmt::format("cannot connect to {}: {}", redacted, why), connectHint(why));
    }
    return std::unique_ptr<Session>(new Session(std::move(conn), redacted));
  }
  try {
    auto conn = std::make_unique<Conn>(conninfo);
    std::unique_ptr<Session> session(new Session(std::move(conn), redacted));
    // CVE-2018-1058: a planted public.unnest(int2[]) would otherwise win over
    // pg_catalog's in an unqualified call. A SET, not a startup option, so
    // pg_settings.reset_val still shows the path applications get (the split
    // step reads it).
    // And dbsplit's own statements are not the applications': kept out of
    // pg_stat_statements, which the catalogue reads, where the role may say so
    // (a superuser; the setting is superuser-only). Asked of the session's
    // own settings, not of pg_settings and pg_roles: on every connection, and
    // those views cost a fresh backend several times more.
    if (!options.application && !options.console) {
      session->exec(
          "SET search_path = pg_catalog, pg_temp;\n"
          "SELECT pg_catalog.set_config('pg_stat_statements.track', 'none', false)\n"
          " WHERE pg_catalog.current_setting('is_superuser') = 'on'\n"
          "   AND pg_catalog.current_setting('pg_stat_statements.track', true) IS NOT NULL");
    }
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
    if (conn_ && conn_->cx) conn_->cx->disconnect();
  } catch (...) {
  }
}

Result Session::exec(const std::string& sql) {
  if (conn_->raw) return consoleExec(sql);
  try {
    pqxx::nontransaction tx(conn_->c());
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
    pqxx::nontransaction tx(conn_->c());
    return adoptResult(tx.exec_params(sql, pqxx::prepare::make_dynamic_params(values)));
  } catch (...) {
    rethrowAsError(sql);
  }
}

Result Session::consoleExec(const std::string& sql) {
  PGresult* r = PQexec(conn_->raw, sql.c_str());
  std::unique_ptr<PGresult, void (*)(PGresult*)> owned(r, PQclear);
  ExecStatusType status = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
    const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
    std::string why = trim(r ? PQresultErrorMessage(r) : PQerrorMessage(conn_->raw));
    throw Error(ExitCode::kStepFailed, "pg_error",
                fmt::format("{} failed on {}: {}", sql, redacted_dsn_, why), {},
                state ? state : "");
  }
  std::vector<std::string> names;
  for (int c = 0; c < PQnfields(r); ++c) names.emplace_back(PQfname(r, c));
  std::vector<std::vector<std::optional<std::string>>> rows;
  for (int i = 0; i < PQntuples(r); ++i) {
    auto& row = rows.emplace_back();
    for (int c = 0; c < PQnfields(r); ++c) {
      if (PQgetisnull(r, i, c)) {
        row.emplace_back();
      } else {
        row.emplace_back(std::string(PQgetvalue(r, i, c), PQgetlength(r, i, c)));
      }
    }
  }
  return adoptText(std::move(names), std::move(rows));
}

int Session::backendPid() const {
  return conn_->raw ? PQbackendPID(conn_->raw) : conn_->c().backendpid();
}
int Session::serverVersion() const {
  return conn_->raw ? PQserverVersion(conn_->raw) : conn_->c().server_version();
}
bool Session::isOpen() const {
  if (!conn_) return false;
  return conn_->raw ? PQstatus(conn_->raw) == CONNECTION_OK : conn_->c().is_open();
}

bool Session::ping() {
  if (conn_->raw) return PQstatus(conn_->raw) == CONNECTION_OK;
  try {
    pqxx::nontransaction tx(conn_->c());
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
                               const std::string& table, const std::string& column_list,
                               const std::function<void(std::int64_t)>& on_rows) {
  const std::string out_sql = "COPY (" + select_sql + ") TO STDOUT";
  const std::string in_sql = "COPY " + table + " (" + column_list + ") FROM STDIN";
  std::int64_t rows = 0;
  bool reading = true;  // whose error is it: this session's or `into`'s
  try {
    pqxx::nontransaction from_tx(conn_->c());
    pqxx::tablereader reader(from_tx, "(" + select_sql + ")");
    reading = false;
    pqxx::nontransaction to_tx(into.conn_->c());
    pqxx::tablewriter writer(to_tx, table + " (" + column_list + ")");
    std::string line;
    for (;;) {
      reading = true;
      if (!reader.get_raw_line(line)) break;
      reading = false;
      writer.write_raw_line(line);
      if (++rows % 8192 == 0 && on_rows) on_rows(rows);
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
