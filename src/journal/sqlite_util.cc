// SQLite result codes to dbsplit::Error, and the RAII statement wrapper.
#include "journal/sqlite_util.h"

#include "fmt/format.h"
#include "journal/journal.h"

namespace dbsplit::journal::internal {

Error lockedError(const std::string& path) {
  return Error(ExitCode::kLocked, "journal_locked",
               fmt::format("journal {} is locked by another process", path),
               fmt::format("wait for the other dbsplit (or sqlite3 session) to finish; "
                           "`fuser {}` shows who holds it",
                           path));
}

Error corruptError(const std::string& path, const std::string& why) {
  return Error(ExitCode::kDrift, "journal_corrupt",
               fmt::format("journal {} is damaged or not a dbsplit journal: {}", path, why),
               "restore it from a backup, or move it away to start a new journal "
               "(the database's dbsplit.applied markers remain the truth)");
}

Error tooNewError(const std::string& path, int version) {
  return Error(ExitCode::kDrift, "journal_too_new",
               fmt::format("journal {} was written by a newer dbsplit (schema version {}; "
                           "this build knows {})",
                           path, version, kSchemaVersion),
               "upgrade dbsplit");
}

Error readOnlyError(const std::string& path) {
  return Error::stepFailed(
      "journal_read_only",
      fmt::format("journal {} was opened read-only and cannot be written", path),
      "this is a dbsplit bug: a read-only command tried to write");
}

void throwSqlite(sqlite3* db, int rc, const std::string& path, const std::string& what) {
  // Read the message first: any later SQLite call may overwrite it.
  std::string message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      throw lockedError(path);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      throw corruptError(path, message);
    default:
      throw Error::stepFailed(
          "journal_error", fmt::format("journal {}: {} failed: {}", path, what, message),
          "check that the file and its directory are writable and the disk is not full");
  }
}

DbHandle openConnection(const std::string& path, int flags) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  DbHandle db(raw);  // sqlite3_open_v2 returns a handle to close even on failure
  if (rc != SQLITE_OK) throwSqlite(db.get(), rc, path, "opening");
  sqlite3_busy_timeout(db.get(), kBusyTimeoutMs);
  return db;
}

void execSql(sqlite3* db, const std::string& path, const std::string& sql) {
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) throwSqlite(db, rc, path, fmt::format("\"{}\"", sql.substr(0, 60)));
}

std::int64_t pragmaInt(sqlite3* db, const std::string& path, const std::string& name) {
  std::string sql = "PRAGMA " + name;
  Statement st(db, path, sql.c_str());
  return st.step() ? st.integer(0) : 0;
}

Statement::Statement(sqlite3* db, const std::string& path, const char* sql) : db_(db), path_(path) {
  int rc = sqlite3_prepare_v2(db_, sql, -1, &stmt_, nullptr);
  if (rc != SQLITE_OK) throwSqlite(db_, rc, path_, "preparing a statement");
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

Statement& Statement::bindText(int index, const std::string& value) {
  int rc =
      sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  if (rc != SQLITE_OK) throwSqlite(db_, rc, path_, "binding a value");
  return *this;
}

Statement& Statement::bindInt(int index, std::int64_t value) {
  int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK) throwSqlite(db_, rc, path_, "binding a value");
  return *this;
}

Statement& Statement::bindNull(int index) {
  int rc = sqlite3_bind_null(stmt_, index);
  if (rc != SQLITE_OK) throwSqlite(db_, rc, path_, "binding a value");
  return *this;
}

bool Statement::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  const char* sql = sqlite3_sql(stmt_);
  throwSqlite(db_, rc, path_, fmt::format("\"{}\"", std::string(sql ? sql : "").substr(0, 60)));
}

int Statement::run() {
  while (step()) {
  }
  return sqlite3_changes(db_);
}

void Statement::reset() { sqlite3_reset(stmt_); }

std::string Statement::text(int column) const {
  const auto* data = static_cast<const char*>(sqlite3_column_blob(stmt_, column));
  int size = sqlite3_column_bytes(stmt_, column);
  return data != nullptr ? std::string(data, static_cast<size_t>(size)) : std::string();
}

std::int64_t Statement::integer(int column) const { return sqlite3_column_int64(stmt_, column); }

}  // namespace dbsplit::journal::internal
