// Journal::open: creation, PRAGMAs, migration, and every refusal (the refused
// file must be left byte-for-byte as it was).
#include <chrono>
#include <random>

#include "catch2/catch.hpp"
#include "journal/journal.h"
#include "journal/schema.h"
#include "unit/journal_fixture.h"
#include "util/error.h"

namespace dbsplit::journal {
namespace {

using test::errorFrom;
using test::fileExists;
using test::fileHash;
using test::fileMode;
using test::TempDir;

void requireRefusedUntouched(const std::string& path, const std::string& kind) {
  std::string before = fileHash(path);
  for (auto mode : {Journal::Mode::kReadWrite, Journal::Mode::kReadOnly}) {
    Error e = errorFrom([&] { Journal::open(path, mode); });
    CHECK(e.kind() == kind);
    CHECK(e.code() == ExitCode::kDrift);
    CHECK(toInt(e.code()) == 6);
    CHECK(std::string(e.what()).find(path) != std::string::npos);
    CHECK_FALSE(e.hint().empty());
    CHECK(fileHash(path) == before);
  }
}

TEST_CASE("a new journal and its -wal and -shm files have mode 0600 whatever the umask",
          "[journal]") {
  for (mode_t mask : {mode_t{0}, mode_t{022}, mode_t{0277}}) {
    TempDir dir;
    std::string path = dir.file("j.db");
    test::ScopedUmask umask(mask);
    auto j = Journal::open(path, Journal::Mode::kReadWrite);
    j->setMeta("migration", "shop");
    CHECK(fileMode(path) == 0600);
    REQUIRE(fileExists(path + "-wal"));
    CHECK(fileMode(path + "-wal") == 0600);
    REQUIRE(fileExists(path + "-shm"));
    CHECK(fileMode(path + "-shm") == 0600);
  }
}

TEST_CASE("a journal runs in WAL mode with synchronous FULL, foreign keys and a busy timeout",
          "[journal]") {
  TempDir dir;
  std::string path = dir.file("j.db");
  auto j = Journal::open(path, Journal::Mode::kReadWrite);
  CHECK(j->pragma("journal_mode") == "wal");
  CHECK(j->pragma("synchronous") == "2");
  CHECK(j->pragma("foreign_keys") == "1");
  CHECK(std::stoi(j->pragma("busy_timeout")) >= 1000);
  CHECK(j->schemaVersion() == kSchemaVersion);
  CHECK(test::rawScalar(path, "PRAGMA application_id") == std::to_string(internal::kApplicationId));
  CHECK(test::rawScalar(path, "PRAGMA user_version") == std::to_string(kSchemaVersion));
  CHECK_THROWS_AS(j->pragma("journal_mode; DROP TABLE meta"), Error);
}

TEST_CASE("a version 1 journal keeps its steps and reads them with no stored inputs", "[journal]") {
  TempDir dir;
  std::string path = dir.file("j.db");
  test::rawExec(path, internal::migration(1).sql);
  test::rawExec(path, "PRAGMA application_id = " + std::to_string(internal::kApplicationId));
  test::rawExec(path, "PRAGMA user_version = 1");
  test::rawExec(path,
                "INSERT INTO steps (name, status, plan_hash, updated_at)"
                " VALUES ('ownership', 'applied', 'abc', '2026-01-01T00:00:00Z')");
  {
    auto ro = Journal::open(path, Journal::Mode::kReadOnly);
    auto step = ro->step("ownership");
    REQUIRE(step.has_value());
    CHECK(step->plan_hash == "abc");
    CHECK(step->inputs.empty());
    CHECK(test::rawScalar(path, "PRAGMA user_version") == "1");  // read-only: untouched
  }
  auto j = Journal::open(path, Journal::Mode::kReadWrite);
  CHECK(test::rawScalar(path, "PRAGMA user_version") == std::to_string(kSchemaVersion));
  REQUIRE(j->step("ownership").has_value());
  CHECK(j->step("ownership")->inputs.empty());
  j->recordStep("ownership", "def", {}, StepStatus::kApplied, R"({"tables":[]})");
  CHECK(j->step("ownership")->inputs == R"({"tables":[]})");
}

TEST_CASE("the migrations are numbered 1 to kSchemaVersion in order", "[journal]") {
  for (int v = 1; v <= kSchemaVersion; ++v) CHECK(internal::migration(v).version == v);
}

TEST_CASE("opening a journal in a missing directory is a usage error", "[journal]") {
  TempDir dir;
  std::string path = dir.file("no-such-dir/j.db");
  Error e = errorFrom([&] { Journal::open(path, Journal::Mode::kReadWrite); });
  CHECK(e.kind() == "journal_dir_missing");
  CHECK(toInt(e.code()) == 2);
  CHECK(std::string(e.what()) ==
        "journal directory " + dir.file("no-such-dir") + " does not exist");
  CHECK(e.hint().find("[migration].journal") != std::string::npos);
  CHECK_FALSE(fileExists(dir.file("no-such-dir")));
}

TEST_CASE("a read-only open of a missing journal is a precondition failure and creates nothing",
          "[journal]") {
  TempDir dir;
  std::string path = dir.file("j.db");
  CHECK_FALSE(Journal::exists(path));
  Error e = errorFrom([&] { Journal::open(path, Journal::Mode::kReadOnly); });
  CHECK(e.kind() == "journal_missing");
  CHECK(toInt(e.code()) == 3);
  CHECK_FALSE(fileExists(path));
}

TEST_CASE("an empty version-0 file is migrated to the current schema", "[journal]") {
  TempDir dir;
  std::string path = dir.file("j.db");
  SECTION("a zero-byte file") { test::writeBytes(path, ""); }
  SECTION("an SQLite file with no schema and user_version 0") {
    test::rawExec(path, "CREATE TABLE t (x); DROP TABLE t;");
    REQUIRE(test::rawScalar(path, "PRAGMA user_version") == "0");
  }
  {
    auto j = Journal::open(path, Journal::Mode::kReadWrite);
    CHECK(j->schemaVersion() == kSchemaVersion);
    j->setMeta("migration", "shop");
    CHECK(j->pragma("journal_mode") == "wal");
  }
  CHECK(test::rawScalar(path, "PRAGMA application_id") == std::to_string(internal::kApplicationId));
  auto again = Journal::open(path, Journal::Mode::kReadWrite);
  CHECK(again->meta("migration") == "shop");
}

TEST_CASE("a read-only open of an empty file reads as an empty journal and leaves it empty",
          "[journal]") {
  TempDir dir;
  std::string path = dir.file("j.db");
  test::writeBytes(path, "");
  {
    auto j = Journal::open(path, Journal::Mode::kReadOnly);
    CHECK(j->schemaVersion() == kSchemaVersion);
    CHECK(j->steps().empty());
    CHECK(j->runs(10).empty());
    CHECK_FALSE(j->meta("migration").has_value());
    Error e = errorFrom([&] { j->setMeta("migration", "shop"); });
    CHECK(e.kind() == "journal_read_only");
  }
  CHECK(test::readBytes(path).empty());
}

TEST_CASE("reopening a current journal keeps its records and version", "[journal]") {
  TempDir dir;
  std::string path = dir.file("j.db");
  Journal::open(path, Journal::Mode::kReadWrite)->setMeta("plan_hash", "abc");
  auto j = Journal::open(path, Journal::Mode::kReadWrite);
  CHECK(j->schemaVersion() == kSchemaVersion);
  CHECK(j->meta("plan_hash") == "abc");
}

TEST_CASE("a journal written by a newer dbsplit is refused and left untouched", "[journal]") {
  TempDir dir;
  std::string path = dir.file("j.db");
  Journal::open(path, Journal::Mode::kReadWrite)->setMeta("migration", "shop");
  test::rawExec(path, "PRAGMA user_version = 99");
  requireRefusedUntouched(path, "journal_too_new");
  Error e = errorFrom([&] { Journal::open(path, Journal::Mode::kReadWrite); });
  CHECK(std::string(e.what()) ==
        "journal " + path +
            " was written by a newer dbsplit (schema version 99; this build "
            "knows " +
            std::to_string(kSchemaVersion) + ")");
  CHECK(e.hint() == "upgrade dbsplit");
}

TEST_CASE("a file of random bytes is refused as corrupt and left untouched", "[journal]") {
  TempDir dir;
  std::string path = dir.file("j.db");
  std::mt19937 rng(42);
  std::string bytes(8192, '\0');
  for (char& c : bytes) c = static_cast<char>(rng() & 0xff);
  bytes[0] = 'X';  // never the SQLite magic by chance
  test::writeBytes(path, bytes);
  requireRefusedUntouched(path, "journal_corrupt");
}

TEST_CASE("a text file shorter than the SQLite header is refused as corrupt", "[journal]") {
  TempDir dir;
  std::string path = dir.file("j.db");
  test::writeBytes(path, "hello\n");
  requireRefusedUntouched(path, "journal_corrupt");
}

TEST_CASE("an SQLite database of another program is refused and left untouched", "[journal]") {
  TempDir dir;
  std::string path = dir.file("j.db");
  test::rawExec(path,
                "CREATE TABLE customers (id integer primary key, name text);"
                "INSERT INTO customers (name) VALUES ('ada');");
  requireRefusedUntouched(path, "journal_corrupt");
  Error e = errorFrom([&] { Journal::open(path, Journal::Mode::kReadWrite); });
  CHECK(std::string(e.what()).find("is damaged or not a dbsplit journal: ") != std::string::npos);
  CHECK(e.hint().find("dbsplit.applied") != std::string::npos);
  CHECK_FALSE(fileExists(path + "-wal"));
}

TEST_CASE("a journal damaged past its header is refused and left untouched", "[journal]") {
  TempDir dir;
  std::string path = dir.file("j.db");
  {
    auto j = Journal::open(path, Journal::Mode::kReadWrite);
    j->transaction([&] {
      for (int i = 0; i < 200; ++i) j->setMeta("key" + std::to_string(i), std::string(100, 'v'));
    });
  }
  REQUIRE_FALSE(fileExists(path + "-wal"));  // closing checkpointed everything
  std::string bytes = test::readBytes(path);
  size_t page = std::stoul(test::rawScalar(path, "PRAGMA page_size"));
  REQUIRE(bytes.size() >= 3 * page);
  for (size_t i = page; i < 3 * page; ++i) bytes[i] = static_cast<char>(0xa5);
  test::writeBytes(path, bytes);
  requireRefusedUntouched(path, "journal_corrupt");
}

TEST_CASE("a journal whose write lock another process holds is reported as journal_locked",
          "[journal]") {
  TempDir dir;
  std::string path = dir.file("j.db");
  Journal::open(path, Journal::Mode::kReadWrite)->setMeta("migration", "shop");
  test::ChildLockHolder holder(
      path, "BEGIN EXCLUSIVE; INSERT INTO meta (key, value) VALUES ('holder', 'child');");
  REQUIRE(holder.locked());

  auto start = std::chrono::steady_clock::now();
  Error e = errorFrom([&] { Journal::open(path, Journal::Mode::kReadWrite); });
  auto waited = std::chrono::steady_clock::now() - start;
  CHECK(e.kind() == "journal_locked");
  CHECK(e.code() == ExitCode::kLocked);
  CHECK(toInt(e.code()) == 4);
  CHECK(std::string(e.what()) == "journal " + path + " is locked by another process");
  CHECK(e.hint().find("fuser " + path) != std::string::npos);
  CHECK(waited >= std::chrono::milliseconds(1000));  // it waited for the busy timeout
  CHECK(waited < std::chrono::seconds(8));

  // Readers are not blocked by a writer in WAL mode, and see only committed rows.
  auto reader = Journal::open(path, Journal::Mode::kReadOnly);
  CHECK(reader->meta("migration") == "shop");
  CHECK_FALSE(reader->meta("holder").has_value());
}

TEST_CASE("a write to an open journal while another connection holds the lock is journal_locked",
          "[journal]") {
  TempDir dir;
  std::string path = dir.file("j.db");
  auto j = Journal::open(path, Journal::Mode::kReadWrite);
  sqlite3* other = nullptr;
  REQUIRE(sqlite3_open_v2(path.c_str(), &other, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_exec(other, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr) == SQLITE_OK);

  Error e = errorFrom([&] { j->setMeta("migration", "shop"); });
  CHECK(e.kind() == "journal_locked");
  CHECK(toInt(e.code()) == 4);
  Error in_transaction = errorFrom([&] { j->transaction([&] { j->setMeta("a", "b"); }); });
  CHECK(in_transaction.kind() == "journal_locked");

  sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close_v2(other);
  j->setMeta("migration", "shop");  // usable again once the lock is gone
  CHECK(j->meta("migration") == "shop");
}

TEST_CASE("a read-only open never modifies the journal file", "[journal]") {
  TempDir dir;
  std::string path = dir.file("j.db");
  {
    auto j = Journal::open(path, Journal::Mode::kReadWrite);
    j->setMeta("migration", "shop");
    std::int64_t run = j->beginRun({0, "run", "outbox", "apply", "dbname=shop", 7, "", "", -1});
    j->recordStep("outbox", "plan",
                  {{"outbox", 0, "outbox/table/orders", "CREATE TABLE x ()", "DROP TABLE x", "",
                    true, "", "h1", ActionStatus::kPending, "", "", 0, 0, "", "", "", ""}},
                  StepStatus::kPending);
    j->logEvent({0, run, "", "step", "outbox", "", R"({"event":"step"})"});
    j->addSnapshot("catalogue", "{}");
  }
  std::string before = fileHash(path);
  {
    auto j = Journal::open(path, Journal::Mode::kReadOnly);
    CHECK(j->meta("migration") == "shop");
    CHECK(j->steps().size() == 1);
    CHECK(j->actions("outbox").size() == 1);
    CHECK(j->runs(0).size() == 1);
    CHECK(j->events(0, 0).size() == 1);
    CHECK(j->latestSnapshot("catalogue").has_value());
    CHECK(errorFrom([&] { j->setMeta("k", "v"); }).kind() == "journal_read_only");
    CHECK(errorFrom([&] { j->setStepStatus("outbox", StepStatus::kApplied); }).kind() ==
          "journal_read_only");
    CHECK(errorFrom([&] { j->transaction([] {}); }).kind() == "journal_read_only");
  }
  CHECK(fileHash(path) == before);
}

}  // namespace
}  // namespace dbsplit::journal

namespace dbsplit::journal {

TEST_CASE("a journal others may write, or in a folder others may write, is refused untouched",
          "[journal][security]") {
  TempDir dir;
  std::string path = dir.file("j.db");
  Journal::open(path, Journal::Mode::kReadWrite)->setMeta("migration", "shop");
  std::string before = fileHash(path);
  auto refused = [&](const std::string& part) {
    for (auto mode : {Journal::Mode::kReadWrite, Journal::Mode::kReadOnly}) {
      Error e = test::errorFrom([&] { Journal::open(path, mode); });
      CHECK(e.kind() == "journal_untrusted");
      CHECK(e.code() == ExitCode::kPrecondition);
      CHECK(std::string(e.what()).find(part) != std::string::npos);
      CHECK(fileHash(path) == before);
    }
  };
  REQUIRE(::chmod(path.c_str(), 0666) == 0);
  refused("others may write it");
  REQUIRE(::chmod(path.c_str(), 0600) == 0);
  REQUIRE(::chmod(dir.path().c_str(), 0777) == 0);
  refused("others may write its directory");
  REQUIRE(::chmod(dir.path().c_str(), 01777) == 0);  // sticky, as /tmp: no one swaps the file
  CHECK_NOTHROW(Journal::open(path, Journal::Mode::kReadOnly));
  REQUIRE(::chmod(dir.path().c_str(), 0700) == 0);
  CHECK_NOTHROW(Journal::open(path, Journal::Mode::kReadWrite));
}

TEST_CASE("a journal that is a symbolic link or belongs to another user is refused",
          "[journal][security]") {
  TempDir dir;
  std::string real = dir.file("real.db");
  Journal::open(real, Journal::Mode::kReadWrite)->setMeta("migration", "shop");
  std::string link = dir.file("link.db");
  REQUIRE(::symlink(real.c_str(), link.c_str()) == 0);
  Error e = test::errorFrom([&] { Journal::open(link, Journal::Mode::kReadWrite); });
  CHECK(e.kind() == "journal_untrusted");
  if (::geteuid() == 0) {  // only root can give a file away
    REQUIRE(::chown(real.c_str(), 65534, 65534) == 0);
    Error other = test::errorFrom([&] { Journal::open(real, Journal::Mode::kReadOnly); });
    CHECK(other.kind() == "journal_untrusted");
    CHECK(std::string(other.what()).find("belongs to uid 65534") != std::string::npos);
  }
}

}  // namespace dbsplit::journal
