// How plan files name relations: SQL identifier rules (folding, quoting,
// escaped quotes, non-ASCII) and the errors for names that are not
// schema.table.
#include <string>

#include "catch2/catch.hpp"
#include "plan/qualified_name.h"

using dbsplit::plan::parseQualifiedName;
using dbsplit::plan::QualifiedName;

namespace {

QualifiedName parsed(const std::string& text, bool schema_required = true) {
  std::string error;
  auto name = parseQualifiedName(text, &error, schema_required);
  INFO(text << " -> " << error);
  REQUIRE(name);
  return *name;
}

std::string errorOf(const std::string& text, bool schema_required = true) {
  std::string error;
  auto name = parseQualifiedName(text, &error, schema_required);
  INFO(text);
  REQUIRE_FALSE(name);
  REQUIRE_FALSE(error.empty());
  return error;
}

}  // namespace

TEST_CASE("unquoted identifiers fold to lower case", "[plan]") {
  CHECK(parsed("public.orders") == QualifiedName{"public", "orders"});
  CHECK(parsed("Public.ORDERS") == QualifiedName{"public", "orders"});
  CHECK(parsed("sales_2024.order$items") == QualifiedName{"sales_2024", "order$items"});
  CHECK(parsed("_private._x1") == QualifiedName{"_private", "_x1"});
}

TEST_CASE("quoted identifiers keep case, spaces, dots and escaped quotes", "[plan]") {
  CHECK(parsed(R"("Sales Dept"."Order ""Items""")") ==
        QualifiedName{"Sales Dept", "Order \"Items\""});
  CHECK(parsed(R"(public."Orders")") == QualifiedName{"public", "Orders"});
  CHECK(parsed(R"("a.b"."c")") == QualifiedName{"a.b", "c"});
  CHECK(parsed(R"("""".x)") == QualifiedName{"\"", "x"});
}

TEST_CASE("non-ASCII letters are identifier characters and only ASCII folds", "[plan]") {
  CHECK(parsed("Café.Ünïcode") == QualifiedName{"café", "Ünïcode"});
  CHECK(parsed(R"("Café"."Prix €")") == QualifiedName{"Café", "Prix €"});
}

TEST_CASE("whitespace around the parts of a name is ignored", "[plan]") {
  CHECK(parsed("  public . orders  ") == QualifiedName{"public", "orders"});
  CHECK(parsed(R"( "My Schema" ."t" )") == QualifiedName{"My Schema", "t"});
}

TEST_CASE("a bare name is an error unless the schema is optional", "[plan]") {
  CHECK_THAT(errorOf("orders"), Catch::Contains("not schema-qualified"));
  CHECK(parsed("orders", false) == QualifiedName{"public", "orders"});
  CHECK(parsed(R"("Orders")", false) == QualifiedName{"public", "Orders"});
}

TEST_CASE("malformed names are rejected with the reason", "[plan]") {
  CHECK_THAT(errorOf(""), Catch::Contains("missing"));
  CHECK_THAT(errorOf("   "), Catch::Contains("missing"));
  CHECK_THAT(errorOf("public."), Catch::Contains("missing"));
  CHECK_THAT(errorOf(".orders"), Catch::Contains("unexpected character '.'"));
  CHECK_THAT(errorOf("shop.public.orders"), Catch::Contains("too many parts"));
  CHECK_THAT(errorOf(R"("unterminated.orders)"), Catch::Contains("unterminated"));
  CHECK_THAT(errorOf(R"("".orders)"), Catch::Contains("zero-length"));
  CHECK_THAT(errorOf("public.order-items"), Catch::Contains("unexpected character '-'"));
  CHECK_THAT(errorOf("public.1orders"), Catch::Contains("unexpected character '1'"));
  CHECK_THAT(errorOf(R"(public."a"b)"), Catch::Contains("unexpected character 'b'"));
  CHECK_THAT(errorOf("public orders"), Catch::Contains("unexpected character 'o'"));
}

TEST_CASE("identifiers longer than PostgreSQL keeps are rejected", "[plan]") {
  std::string max(63, 'a');
  CHECK(parsed("public." + max).name == max);
  CHECK_THAT(errorOf("public." + max + "b"), Catch::Contains("64 bytes"));
  // Bytes, not characters: 32 two-byte letters are 64 bytes.
  std::string wide;
  for (int i = 0; i < 32; ++i) wide += "é";
  CHECK_THAT(errorOf("public.\"" + wide + "\""), Catch::Contains("64 bytes"));
}

TEST_CASE("error output is optional", "[plan]") {
  CHECK_FALSE(parseQualifiedName("nope", nullptr));
  CHECK(parseQualifiedName("a.b", nullptr));
}

TEST_CASE("display is unquoted and quoted() round-trips through the parser", "[plan]") {
  QualifiedName hostile{"Sales Dept", "Order \"Items\""};
  CHECK(hostile.display() == "Sales Dept.Order \"Items\"");
  CHECK(hostile.quoted() == R"("Sales Dept"."Order ""Items""")");
  CHECK(parsed(hostile.quoted()) == hostile);
  QualifiedName plain{"public", "orders"};
  CHECK(plain.display() == "public.orders");
  CHECK(plain.quoted() == R"("public"."orders")");
  CHECK(parsed(plain.quoted()) == plain);
}

TEST_CASE("qualified names order by schema then name", "[plan]") {
  CHECK(QualifiedName{"a", "z"} < QualifiedName{"b", "a"});
  CHECK(QualifiedName{"a", "a"} < QualifiedName{"a", "b"});
  CHECK_FALSE(QualifiedName{"a", "b"} < QualifiedName{"a", "b"});
  CHECK(QualifiedName{"a", "b"} != QualifiedName{"a", "c"});
}
