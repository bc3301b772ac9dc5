// Journal::open: the checks that run before a journal is trusted. A file is
// inspected through a read-only connection before any read-write connection
// touches it, so refusing a foreign, damaged or newer file leaves it
// byte-for-byte as it was.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "fmt/format.h"
#include "journal/journal.h"
#include "journal/schema.h"
#include "journal/sqlite_util.h"

namespace dbsplit::journal {
namespace {

using internal::DbHandle;

[[noreturn]] void throwSystem(const std::string& path, const std::string& what) {
  throw Error::stepFailed("journal_error",
                          fmt::format("journal {}: {}: {}", path, what, std::strerror(errno)),
                          "check the path and its permissions");
}

std::string directoryOf(const std::string& path) {
  auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

void requireDirectory(const std::string& path) {
  std::string dir = directoryOf(path);
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    throw Error::usage("journal_dir_missing",
                       fmt::format("journal directory {} does not exist", dir),
                       "create it, or set [migration].journal to a path whose directory exists");
  }
}

// Creates the file empty with mode 0600. Why here and not by SQLite: SQLite
// would create it with 0644 & ~umask, and the journal holds SQL and DSNs.
// SQLite gives the -wal and -shm files the mode of the database file.
void createIfMissing(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return;  // it exists (perhaps just created by another process)
    throwSystem(path, "cannot create the file");
  }
  int rc = ::fchmod(fd, 0600);  // the umask may have taken bits from 0600
  int saved = errno;
  ::close(fd);
  errno = saved;
  if (rc != 0) throwSystem(path, "cannot set mode 0600");
}

// The journal holds the SQL that `resume` and `rollback` run, so whoever can
// write it can make them run anything. Trusted only when the caller owns it
// and no one else can write it or swap it in its directory (a directory
// others may write is fine only with the sticky bit, as /tmp has).
void requireTrusted(const std::string& path) {
  struct stat file {
  }, dir{};
  if (::lstat(path.c_str(), &file) != 0) throwSystem(path, "cannot inspect the file");
  const std::string folder = directoryOf(path);
  if (::stat(folder.c_str(), &dir) != 0) throwSystem(folder, "cannot inspect the directory");
  const uid_t me = ::geteuid();
  std::string why;
  if (!S_ISREG(file.st_mode)) {
    why = "it is not a regular file (a symbolic link?)";
  } else if (file.st_uid != me) {
    why = fmt::format("it belongs to uid {}, not to you (uid {})", file.st_uid, me);
  } else if (file.st_mode & (S_IWGRP | S_IWOTH)) {
    why = fmt::format("others may write it (mode {:04o})", file.st_mode & 07777);
  } else if (dir.st_uid != me && dir.st_uid != 0) {
    why = fmt::format("its directory {} belongs to uid {}", folder, dir.st_uid);
  } else if ((dir.st_mode & (S_IWGRP | S_IWOTH)) && !(dir.st_mode & S_ISVTX)) {
    why =
        fmt::format("others may write its directory {} (mode {:04o})", folder, dir.st_mode & 07777);
  }
  if (why.empty()) return;
  throw Error::precondition(
      "journal_untrusted", fmt::format("journal {} is not trusted: {}", path, why),
      "the journal holds the SQL that resume and rollback run: keep it, and its directory, "
      "owned by you and writable only by you (chmod 600 / chmod 700)");
}

// The 16-byte magic every SQLite 3 file starts with. An empty file passes: it
// is what createIfMissing() leaves when the first migration never ran.
void checkHeader(const std::string& path) {
  static const char kMagic[16] = {'S', 'Q', 'L', 'i', 't', 'e', ' ', 'f',
                                  'o', 'r', 'm', 'a', 't', ' ', '3', '\0'};
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throwSystem(path, "cannot open the file");
  char header[16];
  ssize_t got = ::read(fd, header, sizeof header);
  int saved = errno;
  ::close(fd);
  errno = saved;
  if (got < 0) throwSystem(path, "cannot read the file");
  if (got == 0) return;
  if (got < static_cast<ssize_t>(sizeof header) || std::memcmp(header, kMagic, sizeof header)) {
    throw internal::corruptError(path, "not an SQLite database");
  }
}

// Returns the schema version after checking, with reads only, that the file
// is an empty or dbsplit journal no newer than this build and intact.
int inspect(sqlite3* db, const std::string& path) {
  std::int64_t app_id = internal::pragmaInt(db, path, "application_id");
  if (app_id != internal::kApplicationId && !internal::isEmptyDatabase(db, path)) {
    throw internal::corruptError(
        path, fmt::format("an SQLite database of another program (application_id {:#x}, "
                          "a journal has {:#x})",
                          static_cast<std::uint32_t>(app_id), internal::kApplicationId));
  }
  auto version = static_cast<int>(internal::pragmaInt(db, path, "user_version"));
  if (version > kSchemaVersion) throw internal::tooNewError(path, version);

  internal::Statement check(db, path, "PRAGMA quick_check(5)");
  std::string problems;
  while (check.step()) {
    std::string line = check.text(0);
    if (line == "ok") continue;
    problems += problems.empty() ? line : "; " + line;
  }
  if (!problems.empty()) throw internal::corruptError(path, "quick_check: " + problems);
  return version;
}

// A read-only journal that is still empty (or older than this build, once a
// later version adds a migration) is copied into memory and migrated there, so
// readers always see the current schema and the file itself is never written.
DbHandle migratedCopy(sqlite3* source, const std::string& path) {
  DbHandle copy = internal::openConnection(":memory:", SQLITE_OPEN_READWRITE);
  sqlite3_backup* backup = sqlite3_backup_init(copy.get(), "main", source, "main");
  if (backup == nullptr)
    internal::throwSqlite(copy.get(), sqlite3_errcode(copy.get()), path, "copying the journal");
  int rc = sqlite3_backup_step(backup, -1);
  sqlite3_backup_finish(backup);
  if (rc != SQLITE_DONE) internal::throwSqlite(source, rc, path, "copying the journal");
  internal::migrate(copy.get(), path);
  internal::execSql(copy.get(), path, "PRAGMA query_only = ON");
  return copy;
}

void configure(sqlite3* db, const std::string& path) {
  internal::Statement wal(db, path, "PRAGMA journal_mode = WAL");
  std::string mode = wal.step() ? wal.text(0) : "";
  if (mode != "wal") {
    throw Error::stepFailed(
        "journal_error",
        fmt::format("journal {}: cannot switch to WAL mode (got \"{}\")", path, mode),
        "keep the journal on a local file system");
  }
  internal::execSql(db, path, "PRAGMA synchronous = FULL");
}

}  // namespace

bool Journal::exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::unique_ptr<Journal> Journal::open(const std::string& path, Mode mode) {
  if (mode == Mode::kReadOnly) {
    if (!exists(path)) {
      throw Error::precondition("journal_missing", fmt::format("journal {} does not exist", path),
                                "nothing has been recorded yet: run a step first, or check "
                                "[migration].journal in the plan");
    }
    requireTrusted(path);
    checkHeader(path);
    DbHandle db = internal::openConnection(path, SQLITE_OPEN_READONLY);
    if (inspect(db.get(), path) < kSchemaVersion) db = migratedCopy(db.get(), path);
    return std::unique_ptr<Journal>(new Journal(path, db.release(), mode));
  }

  requireDirectory(path);
  createIfMissing(path);
  requireTrusted(path);
  checkHeader(path);
  inspect(internal::openConnection(path, SQLITE_OPEN_READONLY).get(), path);

  DbHandle db = internal::openConnection(path, SQLITE_OPEN_READWRITE);
  configure(db.get(), path);
  internal::migrate(db.get(), path);
  internal::execSql(db.get(), path, "PRAGMA foreign_keys = ON");
  return std::unique_ptr<Journal>(new Journal(path, db.release(), mode));
}

}  // namespace dbsplit::journal
