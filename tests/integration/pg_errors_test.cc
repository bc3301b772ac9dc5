// pg::Session turns every driver error into dbsplit::Error with its SQLSTATE:
// the engine and the gates branch on it (55P03 retry, 42501 privilege, 42P01
// an object not there yet).
#include "catch2/catch.hpp"
#include "pg/conninfo.h"
#include "pg/session.h"
#include "support/pg_test.h"

namespace dbsplit::test {

namespace {

std::string sqlstateOf(pg::Session& s, const std::string& sql) {
  try {
    s.exec(sql);
  } catch (const Error& e) {
    return e.sqlstate();
  }
  return "no error";
}

}  // namespace

TEST_CASE("session errors carry the SQLSTATE, also where the driver drops it", "[pg]") {
  TestDb db;
  db.exec("CREATE TABLE secret (id int PRIMARY KEY)");
  std::string reader = db.role("reader");
  auto s =
      pg::Session::connect({pg::buildConninfo(db.dsn(), {{"user", reader}}), "t", false, 10, true});
  CHECK(sqlstateOf(*s, "SELECT * FROM secret") == "42501");
  CHECK(sqlstateOf(*s, "SELECT * FROM no_such_table") == "42P01");
  CHECK(sqlstateOf(*s, "SELECT no_such_column FROM pg_class") == "42703");
  CHECK(sqlstateOf(*s, "SELECT no_such_function()") == "42883");
  CHECK(sqlstateOf(*s, "SELEC 1") == "42601");
  CHECK(sqlstateOf(*s, "SELECT 1/0") == "22012");
}

}  // namespace dbsplit::test
