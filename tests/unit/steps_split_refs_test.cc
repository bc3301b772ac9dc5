// The split step's unqualified-reference finder and search_path handling.
#include "catch2/catch.hpp"
#include "steps/split/refs.h"

using namespace dbsplit::steps::split;

TEST_CASE("SQL bodies: unqualified relations are found, qualified ones and CTEs are not",
          "[split]") {
  BodyRefs r = unqualifiedRefs(
      "sql",
      "WITH recent AS (SELECT * FROM orders) SELECT * FROM recent r JOIN public.customers c "
      "ON c.id = r.customer_id JOIN \"Line Items\" li ON li.order_id = r.id");
  CHECK(r.problems.empty());
  CHECK(namesUsed(r, {"orders", "customers", "recent", "Line Items"}) ==
        std::vector<std::string>{"Line Items", "orders"});
}

TEST_CASE("PL/pgSQL bodies: statements and sequence names in strings", "[split]") {
  const std::string fn = R"(CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$
DECLARE n int;
BEGIN
  n := (SELECT count(*) FROM orders);
  UPDATE stock SET qty = qty - 1;
  PERFORM nextval('orders_id_seq');
  PERFORM nextval('other.orders_id_seq');
  EXECUTE 'SELECT 1';
  RETURN n;
END $$)";
  BodyRefs r = unqualifiedRefs("plpgsql", fn);
  CHECK(namesUsed(r, {"orders", "stock", "orders_id_seq", "absent"}) ==
        std::vector<std::string>{"orders", "orders_id_seq", "stock"});
  REQUIRE(r.problems.size() == 1);
  CHECK(r.problems[0].find("dynamic SQL") != std::string::npos);
}

TEST_CASE("a body that does not parse is reported, not ignored", "[split]") {
  BodyRefs r = unqualifiedRefs("sql", "SELEKT 1");
  CHECK(r.problems.size() == 1);
}

TEST_CASE("search_path settings split and quote back exactly", "[split]") {
  CHECK(splitSearchPath("\"$user\", public") == std::vector<std::string>{"$user", "public"});
  CHECK(splitSearchPath("\"Odd \"\"Name\"\"\",x") == std::vector<std::string>{"Odd \"Name\"", "x"});
  CHECK(searchPathSql({"orders", "$user", "public"}) == "\"orders\", \"$user\", \"public\"");
}
