#include "catch2/catch.hpp"
#include "pg/conninfo.h"
#include "util/error.h"

using namespace dbsplit;

TEST_CASE("redactDsn never shows a password, whatever the DSN form", "[pg]") {
  CHECK(pg::redactDsn("postgresql://app:hunter2@db.example:6432/shop") ==
        "host=db.example port=6432 dbname=shop user=app");
  CHECK(pg::redactDsn("host=/tmp port=5432 dbname=shop user=app password=hunter2") ==
        "host=/tmp port=5432 dbname=shop user=app");
  CHECK(pg::redactDsn("").find("PG*") != std::string::npos);
  CHECK(pg::redactDsn("host='my host' dbname=x") == "host='my host' dbname=x");
}

TEST_CASE("buildConninfo applies overrides and keeps the user's own options", "[pg]") {
  std::string c = pg::buildConninfo(
      "postgresql://app@db/shop?options=-c%20work_mem%3D64MB",
      {{"application_name", "dbsplit/m/s"}, {"options", "-c default_transaction_read_only=on"}});
  CHECK(c.find("application_name=dbsplit/m/s") != std::string::npos);
  CHECK(c.find("work_mem=64MB") != std::string::npos);
  CHECK(c.find("default_transaction_read_only=on") != std::string::npos);
  CHECK(c.find("dbname=shop") != std::string::npos);
}

TEST_CASE("an unparsable DSN is a usage error that does not echo its password", "[pg]") {
  try {
    pg::parseConninfo("host=x password=hunter2 bogus_key=1");
    FAIL("accepted");
  } catch (const Error& e) {
    CHECK(e.code() == ExitCode::kUsage);
    CHECK(std::string(e.what()).find("hunter2") == std::string::npos);
    CHECK(std::string(e.what()).find("bogus_key") != std::string::npos);
  }
}

TEST_CASE("a child program gets the DSN without its password, and the password apart",
          "[pg][security]") {
  for (const std::string dsn : {"postgresql://app:hunter%202@db.example:6432/shop",
                                "host=db.example port=6432 dbname=shop user=app "
                                "password='hunter 2'"}) {
    INFO(dsn);
    pg::ChildConnection c = pg::childConnection(dsn);
    CHECK(c.conninfo.find("hunter") == std::string::npos);
    CHECK(c.conninfo.find("password") == std::string::npos);
    CHECK(c.conninfo.find("dbname=shop") != std::string::npos);
    CHECK(c.conninfo.find("user=app") != std::string::npos);
    CHECK(c.env == std::map<std::string, std::string>{{"PGPASSWORD", "hunter 2"}});
  }
  CHECK(pg::childConnection("host=/tmp dbname=shop").env.empty());
}
