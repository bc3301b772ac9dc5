// Private to src/journal: the thin layer over the SQLite C API that turns every
// SQLite failure into a dbsplit::Error (DESIGN §4) and finalizes statements and
// connections on every path, so the rest of the module never sees a return code.
//
// Thread-safety: a Statement belongs to the thread that uses its connection.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>

#include "util/error.h"

namespace dbsplit::journal::internal {

struct CloseDb {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using DbHandle = std::unique_ptr<sqlite3, CloseDb>;

// How long a writer waits for another process's lock before journal_locked.
constexpr int kBusyTimeoutMs = 2000;

Error lockedError(const std::string& path);
Error corruptError(const std::string& path, const std::string& why);
Error tooNewError(const std::string& path, int version);
Error readOnlyError(const std::string& path);

// Maps a SQLite result code: BUSY/LOCKED -> journal_locked, CORRUPT/NOTADB ->
// journal_corrupt, anything else -> journal_error with SQLite's message.
// `what` names the operation for the message ("reading the steps").
[[noreturn]] void throwSqlite(sqlite3* db, int rc, const std::string& path,
                              const std::string& what);

// Opens a connection (flags as for sqlite3_open_v2) with the busy timeout set.
DbHandle openConnection(const std::string& path, int flags);

// Runs one or more statements that return no rows the caller needs.
void execSql(sqlite3* db, const std::string& path, const std::string& sql);

// An integer-valued PRAGMA (user_version, application_id, ...).
std::int64_t pragmaInt(sqlite3* db, const std::string& path, const std::string& name);

class Statement {
 public:
  Statement(sqlite3* db, const std::string& path, const char* sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Parameters are numbered from 1, as in the SQL text (?1, ?2, ...).
  Statement& bindText(int index, const std::string& value);
  Statement& bindInt(int index, std::int64_t value);
  Statement& bindNull(int index);

  // Advances to the next row; false when there are no more.
  bool step();
  // Steps to completion; returns the number of rows changed.
  int run();
  // Makes the statement ready to run again; bindings stay until rebound.
  void reset();

  // Columns are numbered from 0. Text may hold NUL bytes; NULL reads as "" / 0.
  std::string text(int column) const;
  std::int64_t integer(int column) const;

 private:
  sqlite3* db_;
  std::string path_;
  sqlite3_stmt* stmt_ = nullptr;
};

// Runs `fn` atomically: in its own BEGIN IMMEDIATE transaction, or, when the
// caller already opened one (Journal::transaction), in a savepoint inside it,
// so a multi-statement write never leaves half of itself behind.
template <typename Fn>
void atomically(sqlite3* db, const std::string& path, Fn&& fn) {
  bool outer = sqlite3_get_autocommit(db) != 0;
  execSql(db, path, outer ? "BEGIN IMMEDIATE" : "SAVEPOINT journal_atomic");
  try {
    fn();
    execSql(db, path, outer ? "COMMIT" : "RELEASE journal_atomic");
  } catch (...) {
    if (outer) {
      if (!sqlite3_get_autocommit(db)) sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    } else {
      sqlite3_exec(db, "ROLLBACK TO journal_atomic; RELEASE journal_atomic", nullptr, nullptr,
                   nullptr);
    }
    throw;
  }
}

}  // namespace dbsplit::journal::internal
