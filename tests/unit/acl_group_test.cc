// Reading ACLs several at a time: aclexplode rows tagged with the key of
// their ACL (a column, a default ACL) become one item list per run of a key.
#include "acl/acl.h"
#include "catch2/catch.hpp"

using namespace dbsplit::acl;

TEST_CASE("rows of several ACLs group into one item list per key, in order", "[acl][unit]") {
  std::vector<std::pair<std::string, ExplodedRow>> rows = {
      {"amount", {"owner", "billing", "SELECT", false}},
      {"amount", {"owner", "billing", "UPDATE", true}},
      {"amount", {"owner", "", "SELECT", false}},
      {"id", {"owner", "billing", "SELECT", false}}};
  auto groups = groupByKey(rows);
  REQUIRE(groups.size() == 2);
  CHECK(groups[0].first == "amount");
  REQUIRE(groups[0].second.size() == 2);
  CHECK(groups[0].second[0].grantee == "billing");
  CHECK(groups[0].second[0].privileges == std::vector<std::string>{"SELECT", "UPDATE"});
  CHECK(groups[0].second[0].grantable == std::set<std::string>{"UPDATE"});
  CHECK(groups[0].second[1].grantee.empty());  // PUBLIC
  CHECK(groups[1].first == "id");
  CHECK(groups[1].second.size() == 1);
  CHECK(groupByKey({}).empty());
}
