// Shape keys, log message parsing, search_path parsing, source syntax and the
// [step.catalogue] plan key: the pieces of ingestion that need no server.
#include "catalogue/catalog.h"
#include "catalogue/log_reader.h"
#include "catalogue/shape_key.h"
#include "catalogue/source.h"
#include "catch2/catch.hpp"
#include "plan/plan.h"
#include "util/error.h"

using namespace dbsplit::catalogue;

TEST_CASE("shape keys ignore literals, comments and layout but keep identifiers", "[catalogue]") {
  CHECK(shapeKey("SELECT * FROM t WHERE id = 42 AND n = 'a''b'") ==
        shapeKey("select *  from t -- c\n where id = 7 and n = 'zz'"));
  CHECK(shapeKey("SELECT $1, E'it\\'s', $$x$$, 1.5e3") == shapeKey("SELECT $1, E'x', $q$y$q$, 2"));
  CHECK(shapeKey("SELECT * FROM \"T\"") != shapeKey("SELECT * FROM t"));
  CHECK(shapeKey("SELECT a1 FROM t") != shapeKey("SELECT a2 FROM t"));
  CHECK(shapeKey("SELECT 1 FROM t /* a /* nested */ comment */") == shapeKey("SELECT 2 FROM t"));
  CHECK(shapeKey("SELECT $1 FROM t") != shapeKey("SELECT $2 FROM t"));
}

TEST_CASE("log messages yield their statement, other messages none", "[catalogue]") {
  CHECK(statementOfMessage("statement: SELECT 1") == "SELECT 1");
  CHECK(statementOfMessage("duration: 0.120 ms  statement: SELECT 2") == "SELECT 2");
  CHECK(statementOfMessage("execute <unnamed>: SELECT 3") == "SELECT 3");
  CHECK(statementOfMessage("duration: 1.5 ms  execute S_1: SELECT 4") == "SELECT 4");
  CHECK(statementOfMessage("duration: 1.5 ms") == "");
  CHECK(statementOfMessage("duration: 0.1 ms  parse <unnamed>: SELECT 5") == "");
  CHECK(statementOfMessage("connection received: host=[local]") == "");
  CHECK(statementOfMessage(
            "AUDIT: SESSION,1,1,READ,SELECT,TABLE,public.account,\"select * from account\","
            "<not logged>") == "select * from account");
  CHECK(statementOfMessage(
            "AUDIT: OBJECT,2,1,WRITE,INSERT,TABLE,public.t,<previously logged>,<not logged>") ==
        "");
}

TEST_CASE("search_path text becomes schema names", "[catalogue]") {
  CHECK(parseSearchPath("\"$user\", public", "app") == std::vector<std::string>{"app", "public"});
  CHECK(parseSearchPath("Sales, \"Billing Ünï\",public", "r") ==
        std::vector<std::string>{"sales", "Billing Ünï", "public"});
  CHECK(parseSearchPath("", "r").empty());
}

TEST_CASE("source syntax: kinds, paths and @service", "[catalogue]") {
  auto plan = dbsplit::plan::parsePlan(
      "[migration]\nname = \"m\"\n[[service]]\nname = \"orders\"\nroles = [\"o\"]\n",
      "/tmp/p.toml");
  CHECK(parseSource("pg_stat_statements", "--source", &plan).kind ==
        Source::Kind::kPgStatStatements);
  Source s = parseSource("sql:/nonexistent/dir@orders", "--source", &plan);
  CHECK(s.kind == Source::Kind::kSql);
  CHECK(s.path == "/nonexistent/dir");
  CHECK(s.service == "orders");
  CHECK_THROWS_AS(parseSource("mysql:/x", "--source", &plan), dbsplit::Error);
  CHECK_THROWS_AS(parseSource("log:/x@billing", "--source", &plan), dbsplit::Error);
  try {
    parseSource("logs:/x", "--source", &plan);
    FAIL("accepted");
  } catch (const dbsplit::Error& e) {
    CHECK(e.code() == dbsplit::ExitCode::kUsage);
    CHECK(std::string(e.what()).find("--source") != std::string::npos);
  }
}

TEST_CASE("[step.catalogue] sources are read with positions and checked", "[catalogue]") {
  auto plan = dbsplit::plan::parsePlan(
      "[migration]\nname = \"m\"\n[step.catalogue]\nsources = [\"pg_stat_statements\", "
      "\"log:pg.csv\"]\n",
      "/tmp/p.toml");
  REQUIRE(plan.catalogue.sources.size() == 2);
  CHECK(plan.catalogue.source_pos[1].str() == "/tmp/p.toml:4:34");
  try {
    dbsplit::plan::parsePlan(
        "[migration]\nname = \"m\"\n[step.catalogue]\nsources = [\"pg_stat_statement\"]\n",
        "/tmp/p.toml");
    FAIL("accepted");
  } catch (const dbsplit::Error& e) {
    std::string all = e.what();
    for (const auto& d : e.details()) all += "\n" + d;
    CHECK(all.find("/tmp/p.toml:4:") != std::string::npos);
    CHECK(all.find("did you mean \"pg_stat_statements\"") != std::string::npos);
  }
}
