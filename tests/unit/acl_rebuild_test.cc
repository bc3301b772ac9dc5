// The ownership step's ACL rules, without a database: which REVOKEs take
// non-owner writes away, and how the prior ACL is rebuilt item by item.
#include "acl/acl.h"
#include "catch2/catch.hpp"

using namespace dbsplit::acl;

namespace {

const std::string kTable = R"("public"."orders")";

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

AclItem item(const std::string& grantee, const std::string& grantor, std::vector<std::string> privs,
             std::set<std::string> grantable = {}) {
  return AclItem{grantee, grantor, std::move(privs), std::move(grantable)};
}

}  // namespace

TEST_CASE("aclexplode rows group into items in array order", "[ownership]") {
  std::vector<ExplodedRow> rows = {{"o", "o", "SELECT", false},
                                   {"o", "o", "INSERT", false},
                                   {"o", "", "SELECT", false},
                                   {"o", "x", "INSERT", true},
                                   {"o", "x", "UPDATE", false}};
  auto items = groupRows(rows);
  REQUIRE(items.size() == 3);
  CHECK(items[0] == item("o", "o", {"SELECT", "INSERT"}));
  CHECK(items[1] == item("", "o", {"SELECT"}));
  CHECK(items[2] == item("x", "o", {"INSERT", "UPDATE"}, {"INSERT"}));
}

TEST_CASE("ALTER OWNER relabels the old owner as grantee and grantor, in place", "[ownership]") {
  RelationAcl acl;
  acl.table_null = false;
  acl.table = {item("old", "old", {"SELECT", "INSERT"}), item("x", "old", {"SELECT"}),
               item("y", "x", {"SELECT"})};
  acl.columns = {{"c", {item("z", "old", {"UPDATE"})}}};
  RelationAcl out = relabel(acl, "old", "grp");
  CHECK(out.table[0] == item("grp", "grp", {"SELECT", "INSERT"}));
  CHECK(out.table[1] == item("x", "grp", {"SELECT"}));
  CHECK(out.table[2] == item("y", "x", {"SELECT"}));
  CHECK(out.columns[0].items[0] == item("z", "grp", {"UPDATE"}));
}

TEST_CASE("writes are revoked from PUBLIC and other roles, never from the owner's roles",
          "[ownership]") {
  RelationAcl acl;
  acl.table_null = false;
  acl.table = {item("grp", "grp", {"SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE"}),
               item("", "grp", {"SELECT", "INSERT"}), item("reader", "grp", {"SELECT"}),
               item("writer", "grp", {"SELECT", "UPDATE"}, {"UPDATE"}),
               item("orders_app", "grp", {"INSERT"})};
  auto sql = revokeWrites(kTable, acl, "grp", {"grp", "orders_app"});
  REQUIRE(sql.size() == 1);
  CHECK(sql[0] ==
        "REVOKE INSERT, UPDATE, DELETE, TRUNCATE\n  ON TABLE \"public\".\"orders\"\n"
        "  FROM PUBLIC, \"writer\"\n  CASCADE;");
}

TEST_CASE("nothing to revoke gives no statement", "[ownership]") {
  RelationAcl acl;
  acl.table_null = false;
  acl.table = {item("grp", "grp", {"SELECT", "INSERT"}), item("reader", "grp", {"SELECT"})};
  CHECK(revokeWrites(kTable, acl, "grp", {"grp"}).empty());
  CHECK(revokeWrites(kTable, RelationAcl{}, "grp", {"grp"}).empty());
}

TEST_CASE("with a NULL table ACL only column privileges are revoked", "[ownership]") {
  RelationAcl acl;  // relacl IS NULL
  acl.columns = {{"status", {item("writer", "grp", {"SELECT", "UPDATE"})}},
                 {"note", {item("reader", "grp", {"SELECT"})}}};
  auto sql = revokeWrites(kTable, acl, "grp", {"grp"});
  REQUIRE(sql.size() == 1);
  CHECK(has(sql[0], "REVOKE INSERT (\"status\"), UPDATE (\"status\")"));
  CHECK(has(sql[0], "FROM \"writer\""));
  CHECK(!has(sql[0], "ON TABLE \"public\".\"orders\"\n  FROM PUBLIC"));
}

TEST_CASE("grants made by a kept role are revoked as that role", "[ownership]") {
  RelationAcl acl;
  acl.table_null = false;
  acl.table = {item("app", "grp", {"SELECT", "INSERT"}, {"INSERT"}),
               item("other", "app", {"INSERT"})};
  auto sql = revokeWrites(kTable, acl, "grp", {"grp", "app"});
  REQUIRE(sql.size() == 1);
  CHECK(sql[0] ==
        "SET ROLE \"app\";\nREVOKE INSERT, UPDATE, DELETE, TRUNCATE\n  ON TABLE "
        "\"public\".\"orders\"\n  FROM \"other\"\n  CASCADE;\nRESET ROLE;");
}

TEST_CASE("rebuild empties the ACL, then grants every item again in order", "[ownership]") {
  RelationAcl acl;
  acl.table_null = false;
  acl.table = {item("", "grp", {"SELECT"}), item("grp", "grp", {"SELECT", "INSERT"}),
               item("x", "grp", {"SELECT", "INSERT"}, {"INSERT"}), item("y", "x", {"INSERT"})};
  acl.columns = {{"c", {item("z", "grp", {"UPDATE"})}}};
  auto sql = rebuild(kTable, acl, "grp", {"old"}, false);
  REQUIRE(sql.size() == 6);
  CHECK(sql[0] ==
        "REVOKE ALL\n  ON TABLE \"public\".\"orders\"\n  FROM PUBLIC, \"grp\", \"x\", "
        "\"y\", \"z\", \"old\"\n  CASCADE;");
  CHECK(sql[1] == "GRANT SELECT\n  ON TABLE \"public\".\"orders\"\n  TO PUBLIC;");
  CHECK(sql[2] == "GRANT SELECT, INSERT\n  ON TABLE \"public\".\"orders\"\n  TO \"grp\";");
  CHECK(sql[3] ==
        "GRANT SELECT\n  ON TABLE \"public\".\"orders\"\n  TO \"x\";\n"
        "GRANT INSERT\n  ON TABLE \"public\".\"orders\"\n  TO \"x\"\n  WITH GRANT OPTION;");
  CHECK(
      sql[4] ==
      "SET ROLE \"x\";\nGRANT INSERT\n  ON TABLE \"public\".\"orders\"\n  TO \"y\";\nRESET ROLE;");
  CHECK(sql[5] == "GRANT UPDATE (\"c\")\n  ON TABLE \"public\".\"orders\"\n  TO \"z\";");
}

TEST_CASE("rebuild of a NULL table ACL touches only columns, or resets it to NULL", "[ownership]") {
  RelationAcl acl;
  acl.columns = {{"c", {item("z", "grp", {"UPDATE"})}}};
  auto columns_only = rebuild(kTable, acl, "grp", {}, false);
  REQUIRE(columns_only.size() == 2);
  CHECK(has(columns_only[0], "REVOKE ALL (\"c\")"));
  auto touched = rebuild(kTable, acl, "grp", {"old"}, true);
  REQUIRE(touched.size() == 3);
  CHECK(has(touched[0], "FROM \"z\", \"old\", \"grp\""));
  CHECK(has(touched[2], "SET relacl = NULL"));
  CHECK(has(touched[2], "WHERE oid = '\"public\".\"orders\"'::regclass;"));
}

TEST_CASE("role names are quoted everywhere", "[ownership]") {
  RelationAcl acl;
  acl.table_null = false;
  acl.table = {item("we\"ird role", "grp", {"INSERT"})};
  auto sql = revokeWrites(kTable, acl, "grp", {"grp"});
  REQUIRE(sql.size() == 1);
  CHECK(has(sql[0], "FROM \"we\"\"ird role\""));
}
