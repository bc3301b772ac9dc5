#include "catch2/catch.hpp"
#include "util/error.h"
#include "util/hash.h"
#include "util/text.h"
#include "util/time.h"

using namespace dbsplit;

TEST_CASE("redactSecrets hides key=value, URI and query-string passwords", "[util]") {
  CHECK(util::redactSecrets("host=x password=hunter2 user=a") == "host=x password=******** user=a");
  CHECK(util::redactSecrets("password = 'it\\'s secret' dbname=d").find("secret") ==
        std::string::npos);
  CHECK(util::redactSecrets("postgresql://app:hunter2@db:5432/shop") ==
        "postgresql://app:********@db:5432/shop");
  CHECK(util::redactSecrets("postgres://db/shop?user=a&password=hunter2") ==
        "postgres://db/shop?user=a&password=********");
  CHECK(util::redactSecrets("nothing to hide here") == "nothing to hide here");
}

TEST_CASE("closestMatch suggests a near typo and nothing for an unrelated word", "[util]") {
  std::vector<std::string> keys = {"database", "journal", "name"};
  CHECK(util::closestMatch("databse", keys) == "database");
  CHECK(util::closestMatch("jurnal", keys) == "journal");
  CHECK(util::closestMatch("xyzzy", keys).empty());
  CHECK(util::editDistance("kitten", "sitting") == 3);
}

TEST_CASE("durations parse in every unit and bad ones name where they came from", "[util]") {
  CHECK(util::parseDurationMillis("500ms", "x") == 500);
  CHECK(util::parseDurationMillis("30s", "x") == 30000);
  CHECK(util::parseDurationMillis("15m", "x") == 900000);
  CHECK(util::parseDurationMillis("12h", "x") == 43200000);
  CHECK(util::parseDurationMillis("7d", "x") == 604800000);
  for (const char* bad : {"", "d", "7", "7w", "-1d", "1.5h"}) {
    INFO(bad);
    try {
      util::parseDurationMillis(bad, "plan.toml:3:1");
      FAIL("accepted");
    } catch (const Error& e) {
      CHECK(e.code() == ExitCode::kUsage);
      CHECK(std::string(e.what()).find("plan.toml:3:1") != std::string::npos);
    }
  }
}

TEST_CASE("sha256 matches the standard vector and field hashing cannot be shifted", "[util]") {
  CHECK(util::sha256Hex("abc") ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(util::sha256Fields({"ab", "c"}) != util::sha256Fields({"a", "bc"}));
  CHECK(util::sha256Fields({"a", "b"}) == util::sha256Fields({"a", "b"}));
}
