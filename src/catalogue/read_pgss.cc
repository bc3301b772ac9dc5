// pg_stat_statements: one row per (user, statement shape) with its calls.
// Rows of other databases are left out; so are nested statements (run inside
// functions) where the view has `toplevel`, because function bodies are
// expanded from their definitions and would otherwise count twice.
#include "catalogue/readers.h"
#include "fmt/format.h"
#include "pg/session.h"
#include "sql/quote.h"

namespace dbsplit::catalogue {

std::string pgStatStatementsView(pg::Session& session) {
  auto schema = session.scalar(
      "SELECT n.nspname FROM pg_catalog.pg_extension e\n"
      "JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace\n"
      "WHERE e.extname = 'pg_stat_statements'");
  if (!schema) {
    throw Error::precondition(
        "pg_stat_statements_missing", "pg_stat_statements is not installed in this database",
        "add pg_stat_statements to shared_preload_libraries, restart, then CREATE EXTENSION "
        "pg_stat_statements; or name other sources with --source log:FILE / sql:DIR");
  }
  return sql::quoteQualified(*schema, "pg_stat_statements");
}

void readPgStatStatements(pg::Session& session, Sink& sink) {
  std::string view = pgStatStatementsView(session);
  bool toplevel = session
                      .scalar(
                          "SELECT count(*) FROM pg_catalog.pg_attribute\n"
                          "WHERE attrelid = $1::regclass AND attname = 'toplevel'",
                          view)
                      .value_or("0") != "0";
  auto rows =
      session.exec(fmt::format("SELECT pg_catalog.pg_get_userbyid(s.userid), s.query, s.calls\n"
                               "FROM {} s\n"
                               "WHERE s.dbid = (SELECT oid FROM pg_catalog.pg_database\n"
                               "                WHERE datname = pg_catalog.current_database()){}",
                               view, toplevel ? "\n  AND s.toplevel" : ""));
  for (const auto& row : rows) {
    Observation o;
    o.role = row[0].is_null() ? "" : row[0].c_str();
    o.text = row[1].is_null() ? "" : row[1].c_str();
    o.calls = row[2].as<std::int64_t>();
    if (o.text.empty()) continue;
    sink.statement(o);
  }
}

}  // namespace dbsplit::catalogue
