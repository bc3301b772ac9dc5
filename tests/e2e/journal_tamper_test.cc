// A journal edited after it was written runs nothing (DESIGN §5.9, issue #18):
// rollback, resume and status check the journal's actions against the hash
// chain and against the markers the database holds before any of its SQL runs.
#include <sqlite3.h>

#include "catch2/catch.hpp"
#include "engine/action.h"
#include "support/scenario.h"

using namespace dbsplit::test;

namespace {

const char* const kTampered = "CREATE TABLE public.tampered (id int)";

void execJournal(const std::string& path, const std::string& sql, const std::string& a,
                 const std::string& b) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK);
  sqlite3_bind_text(st, 1, a.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 2, b.c_str(), -1, SQLITE_TRANSIENT);
  CHECK(sqlite3_step(st) == SQLITE_DONE);
  CHECK(sqlite3_changes(db) == 1);
  sqlite3_finalize(st);
  sqlite3_close_v2(db);
}

// Sets `field` (forward, inverse or verify) of action `id` to `sql`.
void editAction(const std::string& path, const std::string& field, const std::string& id,
                const std::string& sql) {
  execJournal(path, "UPDATE actions SET " + field + " = ?2 WHERE id = ?1", id, sql);
}

// Rewrites every stored hash of `step` as dbsplit would compute it, as an
// attacker who read the source would.
void rehash(const std::string& path, const std::string& step) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_prepare_v2(db,
                             "SELECT id, forward, inverse, target_database, mover, mover_args"
                             " FROM actions WHERE step = ?1 ORDER BY seq",
                             -1, &st, nullptr) == SQLITE_OK);
  sqlite3_bind_text(st, 1, step.c_str(), -1, SQLITE_TRANSIENT);
  std::vector<dbsplit::engine::Action> actions;
  auto text = [&](int col) {
    return std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, col)));
  };
  while (sqlite3_step(st) == SQLITE_ROW) {
    dbsplit::engine::Action a;
    a.id = text(0);
    a.forward = text(1);
    a.inverse = text(2);
    a.database = text(3);
    a.mover = text(4);
    a.mover_args = text(5);
    actions.push_back(a);
  }
  sqlite3_finalize(st);
  sqlite3_close_v2(db);
  dbsplit::engine::chainHashes(actions);
  for (const auto& a : actions) {
    execJournal(path, "UPDATE actions SET sha256 = ?2 WHERE id = ?1", a.id, a.sha256);
  }
}

bool tamperedExists(Scenario& s) {
  return s.db().scalar("SELECT to_regclass('public.tampered') IS NOT NULL") == "t";
}

}  // namespace

TEST_CASE("an edited journal action makes rollback and status exit 6 and runs nothing",
          "[engine][journal][security][pg]") {
  Scenario s("CREATE TABLE public.t (id int PRIMARY KEY, v int);", {"public.t"});
  REQUIRE(s.cli({"run", "selftest", "--yes"}).exit_code == 0);
  const std::string journal = s.journalPath();
  SECTION("the inverse") { editAction(journal, "inverse", "selftest/column/public.t", kTampered); }
  SECTION("the forward") { editAction(journal, "forward", "selftest/comment/public.t", kTampered); }
  SECTION("the verify query") {
    editAction(journal, "verify", "selftest/index/public.t",
               "SELECT true FROM pg_catalog.pg_class WHERE relname = 'tampered'");
  }
  SECTION("the inverse, with every hash of the journal recomputed") {
    editAction(journal, "inverse", "selftest/column/public.t", kTampered);
    rehash(journal, "selftest");
  }
  SECTION("the verify query, with every hash of the journal recomputed") {
    editAction(journal, "verify", "selftest/index/public.t", "SELECT false");
    rehash(journal, "selftest");
  }
  CliResult rb = s.cli({"rollback", "selftest", "--yes", "--json"});
  CHECK(rb.exit_code == 6);
  CHECK(rb.out.find("journal_tampered") != std::string::npos);
  CHECK_FALSE(tamperedExists(s));
  // Nothing was undone either.
  CHECK(s.db().scalar("SELECT count(*) FROM pg_attribute WHERE attname = 'dbsplit_selftest'"
                      " AND NOT attisdropped") == "1");
  CliResult status = s.cli({"status", "--json"});
  CHECK(status.exit_code == 6);
  CHECK(status.out.find("journal") != std::string::npos);
  CHECK_FALSE(tamperedExists(s));
}

TEST_CASE("an edited pending action of an interrupted step makes resume and rollback exit 6",
          "[engine][journal][security][pg]") {
  Scenario s("CREATE TABLE public.t (id int PRIMARY KEY, v int);", {"public.t"});
  CliResult killed =
      s.cli({"run", "selftest", "--yes"}, {{"DBSPLIT_FAULT", "selftest/column/public.t:after"}});
  REQUIRE(killed.exit_code == 137);
  const std::string journal = s.journalPath();
  SECTION("the forward of the next action") {
    editAction(journal, "forward", "selftest/index/public.t", kTampered);
  }
  SECTION("the forward of the next action, with every hash recomputed") {
    editAction(journal, "forward", "selftest/index/public.t", kTampered);
    rehash(journal, "selftest");
  }
  SECTION("the verify of the next action, with every hash recomputed") {
    editAction(journal, "verify", "selftest/index/public.t",
               "SELECT true FROM pg_catalog.pg_class WHERE relname = 'tampered'");
    rehash(journal, "selftest");
  }
  CliResult resume = s.cli({"resume", "--json"});
  CHECK(resume.exit_code == 6);
  CHECK(resume.out.find("journal_tampered") != std::string::npos);
  CHECK_FALSE(tamperedExists(s));
  CliResult rb = s.cli({"rollback", "selftest", "--yes"});
  CHECK(rb.exit_code == 6);
  CHECK_FALSE(tamperedExists(s));
  // The column the interrupted run added is still there: nothing was undone.
  CHECK(s.db().scalar("SELECT count(*) FROM pg_attribute WHERE attname = 'dbsplit_selftest'"
                      " AND NOT attisdropped") == "1");
}
