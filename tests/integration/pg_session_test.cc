// pg::Session's own result, parameter, transaction and COPY types: what the
// layers above src/pg rely on instead of the driver's.
#include <limits>
#include <optional>

#include "catch2/catch.hpp"
#include "pg/session.h"
#include "pg/transaction.h"
#include "support/pg_test.h"

namespace dbsplit::test {

TEST_CASE("results read by index, by column name and as typed values, NULL included", "[pg]") {
  TestDb db;
  auto s = db.session();
  pg::Result r = s->exec(
      "SELECT 42 AS n, 'x' AS t, NULL::int AS nothing, true AS yes, 2.5::float8 AS d, "
      "9000000000::bigint AS big UNION ALL SELECT 7, 'y', 1, false, -1, 0");
  REQUIRE(r.size() == 2);
  REQUIRE(r.columns() == 6);
  CHECK(r.column_name(1) == "t");
  CHECK(r[0][0].as<int>() == 42);
  CHECK(r[0]["t"].as<std::string>() == "x");
  CHECK(std::string(r[0]["t"].c_str()) == "x");
  CHECK(r[0]["nothing"].is_null());
  CHECK(r[0]["nothing"].as<int>(-1) == -1);
  CHECK(r[1]["nothing"].as<int>(-1) == 1);
  CHECK_THROWS_AS(r[0]["nothing"].as<int>(), Error);
  CHECK(r[0]["yes"].as<bool>());
  CHECK_FALSE(r[1]["yes"].as<bool>());
  CHECK(r[0]["d"].as<double>() == 2.5);
  CHECK(r[0]["big"].as<long long>() == 9000000000LL);
  CHECK_THROWS_AS(r[0]["t"].as<long>(), Error);
  CHECK_THROWS_AS(r[0]["no_such_column"], Error);

  int rows = 0;
  for (const auto& row : r) rows += row.size() == 6 ? 1 : 0;
  CHECK(rows == 2);
  // A row outlives the result it came from.
  pg::Row kept = s->exec("SELECT 'kept' AS k")[0];
  CHECK(kept["k"].as<std::string>() == "kept");
}

TEST_CASE("bind parameters take strings, numbers, bool and NULL", "[pg]") {
  TestDb db;
  auto s = db.session();
  std::optional<std::string> none;
  pg::Result r = s->execParams(
      "SELECT $1::text, $2::int + 1, $3::bigint, $4::boolean, $5::float8, $6::text IS NULL, "
      "$7::text IS NULL",
      std::string("it's"), 41, std::int64_t{1} << 40, true, 0.1, none, nullptr);
  CHECK(r[0][0].as<std::string>() == "it's");
  CHECK(r[0][1].as<int>() == 42);
  CHECK(r[0][2].as<std::int64_t>() == (std::int64_t{1} << 40));
  CHECK(r[0][3].as<bool>());
  CHECK(r[0][4].as<double>() == 0.1);
  CHECK(r[0][5].as<bool>());
  CHECK(r[0][6].as<bool>());
  CHECK(s->scalar("SELECT $1::text", std::optional<std::string>("v")) == "v");
  CHECK_FALSE(s->scalar("SELECT NULL::text").has_value());
  CHECK(s->execParamList("SELECT $1::int + $2::int", {"1", "2"})[0][0].as<int>() == 3);

  s->exec("CREATE TABLE t (id int)");
  CHECK(s->execParams("INSERT INTO t SELECT generate_series(1, $1::int)", 3).affected_rows() == 3);
}

TEST_CASE("a transaction guard rolls back unless committed", "[pg]") {
  TestDb db;
  auto s = db.session();
  s->exec("CREATE TABLE t (id int)");
  {
    pg::Transaction tx(*s);
    s->exec("INSERT INTO t VALUES (1)");
  }
  CHECK(db.scalar("SELECT count(*) FROM t") == "0");
  try {
    pg::Transaction tx(*s);
    s->exec("INSERT INTO t VALUES (2)");
    s->exec("SELECT 1/0");
    tx.commit();
  } catch (const Error& e) {
    CHECK(e.sqlstate() == "22012");
  }
  CHECK(db.scalar("SELECT count(*) FROM t") == "0");
  {
    pg::Transaction tx(*s);
    s->exec("INSERT INTO t VALUES (3)");
    tx.commit();
  }
  CHECK(db.scalar("SELECT count(*) FROM t") == "1");
  // The session is usable again after each.
  CHECK(s->exec("SELECT 1")[0][0].as<int>() == 1);
}

TEST_CASE("an imported snapshot sees what the exporter saw, read only when asked", "[pg]") {
  TestDb db;
  db.exec("CREATE TABLE t (id int); INSERT INTO t VALUES (1)");
  auto exporter = db.session();
  auto reader = db.session();
  using Isolation = pg::TransactionOptions::Isolation;
  pg::Transaction exporting(*exporter, {Isolation::kRepeatableRead, false, {}});
  std::string snapshot = exporting.exportSnapshot();
  db.exec("INSERT INTO t VALUES (2)");
  pg::Transaction importing(*reader, {Isolation::kRepeatableRead, true, snapshot});
  CHECK(reader->exec("SELECT count(*) FROM t")[0][0].as<int>() == 1);
  try {
    reader->exec("INSERT INTO t VALUES (3)");
    FAIL("a read-only transaction wrote");
  } catch (const Error& e) {
    CHECK(e.sqlstate() == pg::kReadOnlyTransaction);
  }
}

TEST_CASE("copyInto streams rows between sessions, text escapes and NULLs intact", "[pg]") {
  TestDb from_db;
  TestDb to_db;
  from_db.exec(
      "CREATE TABLE src (id int, note text);"
      "INSERT INTO src VALUES (1, 'tab\there'), (2, E'new\\nline'), (3, NULL), (4, 'Ünï \\ ✓')");
  to_db.exec("CREATE TABLE \"Dest Table\" (id int, note text, extra text DEFAULT 'd')");
  auto from = from_db.session();
  auto to = to_db.session();
  pg::Transaction tx(*to);
  std::int64_t n = from->copyInto("SELECT id, note FROM src WHERE id > 0", *to,
                                  "public.\"Dest Table\"", "id, note");
  tx.commit();
  CHECK(n == 4);
  CHECK(to_db.scalar("SELECT string_agg(id || ':' || coalesce(note, '<null>') || ':' || extra, "
                     "'|' ORDER BY id) FROM \"Dest Table\"") ==
        from_db.scalar("SELECT string_agg(id || ':' || coalesce(note, '<null>') || ':d', '|' "
                       "ORDER BY id) FROM src"));
}

TEST_CASE("a failing COPY reports the side that failed and leaves both sessions usable", "[pg]") {
  TestDb db;
  db.exec(
      "CREATE TABLE a (id int); INSERT INTO a VALUES (1), (2); CREATE TABLE b (id int "
      "CHECK (id < 2))");
  auto from = db.session();
  auto to = db.session();
  {
    pg::Transaction tx(*to);
    try {
      from->copyInto("SELECT id FROM a", *to, "b", "id");
      FAIL("the check constraint did not stop the copy");
    } catch (const Error& e) {
      CHECK(e.sqlstate() == "23514");
    }
  }
  CHECK(db.scalar("SELECT count(*) FROM b") == "0");
  CHECK(from->exec("SELECT 1")[0][0].as<int>() == 1);
  CHECK(to->exec("SELECT 1")[0][0].as<int>() == 1);
  try {
    from->copyInto("SELECT no_such_column FROM a", *to, "b", "id");
    FAIL("a bad query copied");
  } catch (const Error& e) {
    CHECK(e.sqlstate() == "42703");
  }
}

}  // namespace dbsplit::test

namespace dbsplit::test {

TEST_CASE(
    "dbsplit's own sessions stay out of pg_stat_statements, which the catalogue reads, while "
    "an application's are counted",
    "[pg][catalogue]") {
  TestDb db;
  db.exec("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
  db.exec("CREATE TABLE public.marker_7f3a (id int)");
  pg::ConnectOptions own;
  own.dsn = db.dsn();
  own.application_name = "dbsplit/t/compare";
  pg::Session::connect(own)->exec("SELECT count(*) FROM public.marker_7f3a WHERE id = 1");
  pg::ConnectOptions app = own;
  app.application_name = "shop";
  app.application = true;
  pg::Session::connect(app)->exec("SELECT count(*) FROM public.marker_7f3a WHERE id > 1");
  auto calls = [&](const std::string& op) {
    return db.scalar(
        "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements WHERE query LIKE "
        "'%marker_7f3a WHERE id " +
        op + "%' AND dbid = (SELECT oid FROM pg_database WHERE datname = current_database())");
  };
  CHECK(calls("=") == "0");
  CHECK(calls(">") == "1");
}

}  // namespace dbsplit::test
