// Helpers for the journal's unit tests: a temporary directory, file bytes and
// hashes, raw SQLite access to a journal file, and a child process that holds
// a journal's write lock the way a second dbsplit or a `sqlite3` shell would.
#pragma once

#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <string>

#include "catch2/catch.hpp"
#include "util/error.h"
#include "util/hash.h"

namespace dbsplit::journal::test {

class TempDir {
 public:
  TempDir() {
    std::string templ = (std::filesystem::temp_directory_path() / "dbsplit-journal-XXXXXX");
    if (::mkdtemp(templ.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = templ;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string file(const std::string& name) const { return path_ + "/" + name; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Runs `fn`, which must throw dbsplit::Error, and returns the error.
template <typename Fn>
Error errorFrom(Fn&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e;
  }
  FAIL("expected a dbsplit::Error");
  throw std::logic_error("unreachable");
}

inline std::string readBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline void writeBytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
  if (!out) throw std::runtime_error("cannot write " + path);
}

inline std::string fileHash(const std::string& path) { return util::sha256Hex(readBytes(path)); }

inline bool fileExists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

inline unsigned fileMode(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) throw std::runtime_error("cannot stat " + path);
  return st.st_mode & 07777;
}

// Runs SQL on the file through a connection of its own (not through Journal).
inline void rawExec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  char* err = nullptr;
  if (rc == SQLITE_OK) rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  std::string message = err ? err : sqlite3_errmsg(db);
  sqlite3_free(err);
  sqlite3_close_v2(db);
  if (rc != SQLITE_OK) throw std::runtime_error("sqlite: " + message);
}

// The first column of the first row, as text.
inline std::string rawScalar(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* st = nullptr;
  std::string out;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW) {
    const unsigned char* text = sqlite3_column_text(st, 0);
    out = text ? reinterpret_cast<const char*>(text) : "";
  }
  sqlite3_finalize(st);
  sqlite3_close_v2(db);
  return out;
}

// A child process that opens `path`, runs `sql` (which should take a lock,
// e.g. "BEGIN EXCLUSIVE; ...") and keeps it until this object is destroyed.
// REQUIRES: no connection to `path` is open in this process (a forked child
// must not inherit SQLite's per-process lock bookkeeping for the file).
class ChildLockHolder {
 public:
  ChildLockHolder(const std::string& path, const std::string& sql) {
    int ready[2];
    int release[2];
    if (::pipe(ready) != 0 || ::pipe(release) != 0) throw std::runtime_error("pipe failed");
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      ::close(ready[0]);
      ::close(release[1]);
      sqlite3* db = nullptr;
      char ok = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK &&
                sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK;
      ssize_t ignored = ::write(ready[1], &ok, 1);
      char c;
      ignored = ::read(release[0], &c, 1);  // returns when the parent closes its end
      (void)ignored;
      ::_exit(0);  // no destructors, no Catch2: the lock dies with the process
    }
    ::close(ready[1]);
    ::close(release[0]);
    release_fd_ = release[1];
    char ok = 0;
    if (::read(ready[0], &ok, 1) != 1) ok = 0;
    ::close(ready[0]);
    locked_ = ok == 1;
  }
  ~ChildLockHolder() {
    ::close(release_fd_);
    ::waitpid(pid_, nullptr, 0);
  }
  ChildLockHolder(const ChildLockHolder&) = delete;
  ChildLockHolder& operator=(const ChildLockHolder&) = delete;

  bool locked() const { return locked_; }

 private:
  pid_t pid_ = -1;
  int release_fd_ = -1;
  bool locked_ = false;
};

// Sets the process umask for one scope.
class ScopedUmask {
 public:
  explicit ScopedUmask(mode_t mask) : saved_(::umask(mask)) {}
  ~ScopedUmask() { ::umask(saved_); }
  ScopedUmask(const ScopedUmask&) = delete;
  ScopedUmask& operator=(const ScopedUmask&) = delete;

 private:
  mode_t saved_;
};

}  // namespace dbsplit::journal::test
