// The suite's sandbox has what every step needs, and the test helpers keep
// parallel tests apart and clean up after them.
#include <regex>

#include "catch2/catch.hpp"
#include "support/pg_test.h"

namespace dbsplit::test {

TEST_CASE("the suite sandbox runs with wal_level logical and pg_stat_statements loaded",
          "[sandbox][pg]") {
  TestDb db;
  CHECK(db.scalar("SHOW wal_level") == "logical");
  CHECK_THAT(db.scalar("SHOW shared_preload_libraries"), Catch::Contains("pg_stat_statements"));
  CHECK(db.scalar("SHOW pg_stat_statements.track") == "all");
  CHECK(std::stoi(db.scalar("SHOW max_connections")) >= 200);
  CHECK(std::stoi(db.scalar("SHOW max_replication_slots")) >= 10);
  // Every new database has the extension (it is created in template1).
  CHECK(db.scalar("SELECT extname FROM pg_extension WHERE extname = 'pg_stat_statements'") ==
        "pg_stat_statements");
  // Constants are normalized away in pg_stat_statements; a table name is kept.
  db.exec("CREATE TABLE stats_probe (id int)");
  db.exec("SELECT id FROM stats_probe WHERE id = 7");
  CHECK(db.scalar("SELECT count(*) FROM pg_stat_statements s JOIN pg_database d ON d.oid = "
                  "s.dbid WHERE d.datname = current_database() AND s.query LIKE "
                  "'SELECT id FROM stats_probe%'") == "1");
}

TEST_CASE("two TestDbs are separate databases", "[sandbox][pg]") {
  TestDb a;
  TestDb b;
  CHECK(a.name() != b.name());
  std::regex shape("t_[0-9]+_[0-9]+_[0-9a-f]+");
  CHECK(std::regex_match(a.name(), shape));
  CHECK(std::regex_match(b.name(), shape));

  a.exec("CREATE TABLE only_in_a (id int); INSERT INTO only_in_a VALUES (1), (2)");
  CHECK(a.scalar("SELECT to_regclass('public.only_in_a')") == "only_in_a");
  CHECK(b.scalar("SELECT to_regclass('public.only_in_a')").empty());
  CHECK(a.rows("SELECT id, NULL FROM only_in_a ORDER BY id") ==
        std::vector<std::vector<std::string>>{{"1", ""}, {"2", ""}});
}

TEST_CASE("a TestDb drops its database and its roles, even roles that own things",
          "[sandbox][pg]") {
  TestDb observer;
  std::string name;
  std::string owner;
  std::string reader;
  {
    TestDb db;
    name = db.name();
    owner = db.role("owner");
    reader = db.role("reader", "NOLOGIN");
    db.exec("CREATE TABLE t (id int); ALTER TABLE t OWNER TO " + owner + "; GRANT SELECT ON t TO " +
            reader + "; GRANT CONNECT ON DATABASE postgres TO " + reader + "; GRANT " + reader +
            " TO " + owner);
    CHECK(observer.scalar("SELECT count(*) FROM pg_roles WHERE rolname IN ('" + owner + "', '" +
                          reader + "')") == "2");
  }
  CHECK(observer.scalar("SELECT count(*) FROM pg_database WHERE datname = '" + name + "'") == "0");
  CHECK(observer.scalar("SELECT count(*) FROM pg_roles WHERE rolname IN ('" + owner + "', '" +
                        reader + "')") == "0");
}

TEST_CASE("schemaDump shows owners and grants and is the same when nothing changed",
          "[sandbox][pg]") {
  TestDb db;
  std::string owner = db.role("dumper");
  db.exec("CREATE TABLE public.orders (id int PRIMARY KEY); ALTER TABLE public.orders OWNER TO " +
          owner + "; COMMENT ON TABLE public.orders IS 'owned by orders'");
  std::string first = db.schemaDump();
  CHECK_THAT(first, Catch::Contains("CREATE TABLE public.orders"));
  CHECK_THAT(first, Catch::Contains("OWNER TO " + owner));
  CHECK_THAT(first, Catch::Contains("owned by orders"));
  CHECK(db.schemaDump() == first);
  db.exec("ALTER TABLE public.orders ADD COLUMN note text");
  CHECK(db.schemaDump() != first);
}

TEST_CASE("runCli keeps stdout and stderr apart and passes env and cwd", "[sandbox][pg]") {
  TempDir tmp;
  tmp.write("sub/file.txt", "hello");
  CHECK(readFile(tmp.file("sub/file.txt")) == "hello");
  CHECK(fileSha256(tmp.file("sub/file.txt")) ==
        "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
  CHECK(fileSha256(tmp.file("missing")).empty());

  CliResult r =
      runCli({"sandbox", "start", "--dir", "sb"}, {{"DBSPLIT_PG_BINDIR", tmp.path()}}, tmp.path());
  CHECK(r.exit_code == 3);
  CHECK(r.out.empty());
  CHECK_THAT(r.err, Catch::Contains("DBSPLIT_PG_BINDIR=" + tmp.path()));

  CliResult help = runCli({"sandbox", "start", "--help"});
  CHECK(help.exit_code == 0);
  CHECK_THAT(help.out, Catch::Contains("--no-fsync") && Catch::Contains("tests and demos only"));
}

TEST_CASE("a BackgroundCli reports its output and exit code when waited for", "[sandbox][pg]") {
  TempDir tmp;
  BackgroundCli cli({"sandbox", "status", "--dir", tmp.file("none")});
  CliResult r = cli.wait();
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("no sandbox at"));
}

}  // namespace dbsplit::test
