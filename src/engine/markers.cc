#include "engine/markers.h"

#include "fmt/format.h"
#include "sql/quote.h"

namespace dbsplit::engine::markers {

const char* const kInsert =
    "INSERT INTO dbsplit.applied (migration, action_id, sha256) VALUES ($1, $2, $3)\n"
    "ON CONFLICT (migration, action_id) DO UPDATE\n"
    "  SET sha256 = excluded.sha256, applied_at = now()";
const char* const kDelete = "DELETE FROM dbsplit.applied WHERE migration = $1 AND action_id = $2";

std::string insertSql(const std::string& migration, const std::string& action_id,
                      const std::string& sha256) {
  return fmt::format(
      "INSERT INTO dbsplit.applied (migration, action_id, sha256) VALUES ({}, {}, {})\n"
      "ON CONFLICT (migration, action_id) DO UPDATE\n"
      "  SET sha256 = excluded.sha256, applied_at = now()",
      sql::quoteLiteral(migration), sql::quoteLiteral(action_id), sql::quoteLiteral(sha256));
}

std::string deleteSql(const std::string& migration, const std::string& action_id) {
  return fmt::format("DELETE FROM dbsplit.applied WHERE migration = {} AND action_id = {}",
                     sql::quoteLiteral(migration), sql::quoteLiteral(action_id));
}

namespace {

bool tableExists(pg::Session& session) {
  return session.scalar("SELECT to_regclass('dbsplit.applied') IS NOT NULL").value_or("f") == "t";
}

}  // namespace

void ensure(pg::Session& session, int lock_timeout_ms) {
  if (tableExists(session)) return;
  session.exec(
      fmt::format("BEGIN;\n"
                  "SET LOCAL lock_timeout = '{}ms';\n"
                  "CREATE SCHEMA IF NOT EXISTS dbsplit;\n"
                  "CREATE TABLE IF NOT EXISTS dbsplit.applied (\n"
                  "  migration  text        NOT NULL,\n"
                  "  action_id  text        NOT NULL,\n"
                  "  sha256     text        NOT NULL,\n"
                  "  applied_at timestamptz NOT NULL DEFAULT now(),\n"
                  "  PRIMARY KEY (migration, action_id)\n"
                  ");\n"
                  "COMMIT;",
                  lock_timeout_ms));
}

std::set<std::string> present(pg::Session& session, const std::string& migration) {
  std::set<std::string> out;
  if (!tableExists(session)) return out;
  pg::Result r =
      session.execParams("SELECT action_id FROM dbsplit.applied WHERE migration = $1", migration);
  for (const auto& row : r) out.insert(row[0].c_str());
  return out;
}

std::map<std::string, std::string> hashes(pg::Session& session, const std::string& migration) {
  std::map<std::string, std::string> out;
  if (!tableExists(session)) return out;
  pg::Result r = session.execParams(
      "SELECT action_id, sha256 FROM dbsplit.applied WHERE migration = $1", migration);
  for (const auto& row : r) out[row[0].c_str()] = row[1].c_str();
  return out;
}

std::string chainId(const std::string& step) { return "chain:" + step; }

void recordChain(pg::Session& session, const std::string& migration, const std::string& step,
                 const std::string& digest) {
  session.execParams(kInsert, migration, chainId(step), digest);
}

std::optional<std::string> chain(pg::Session& session, const std::string& migration,
                                 const std::string& step) {
  if (!tableExists(session)) return std::nullopt;
  return session.scalar(
      "SELECT sha256 FROM dbsplit.applied WHERE migration = $1 AND action_id = $2", migration,
      chainId(step));
}

void deleteChain(pg::Session& session, const std::string& migration, const std::string& step) {
  if (!tableExists(session)) return;
  session.execParams(kDelete, migration, chainId(step));
}

void dropIfEmpty(pg::Session& session, int lock_timeout_ms) {
  if (!tableExists(session)) return;
  // Only our own table may be in the schema; anything else means someone uses
  // the schema and it stays.
  auto others = session.scalar(
      "SELECT count(*) FROM pg_class WHERE relnamespace = 'dbsplit'::regnamespace"
      " AND relname NOT IN ('applied', 'applied_pkey')");
  auto rows = session.scalar("SELECT count(*) FROM dbsplit.applied");
  if (others.value_or("1") != "0" || rows.value_or("1") != "0") return;
  try {
    session.exec(
        fmt::format("BEGIN;\nSET LOCAL lock_timeout = '{}ms';\nDROP TABLE dbsplit.applied;\n"
                    "DROP SCHEMA dbsplit;\nCOMMIT;",
                    lock_timeout_ms));
  } catch (const Error&) {
    session.exec("ROLLBACK");  // an empty marker table left behind is harmless
  }
}

bool effectPresent(pg::Session& session, const std::set<std::string>& markers,
                   const journal::ActionRecord& action) {
  if (action.transactional || action.verify.empty()) return markers.count(action.id) > 0;
  return verified(session, action.verify);
}

bool verified(pg::Session& session, const std::string& verify) {
  try {
    return session.scalar(verify).value_or("f") == "t";
  } catch (const Error& e) {
    const std::string& state = e.sqlstate();
    if (state == "42P01" || state == "3F000" || state == "42883") return false;
    throw;
  }
}

}  // namespace dbsplit::engine::markers
