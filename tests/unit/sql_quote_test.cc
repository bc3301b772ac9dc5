// sql/quote: the one place SQL text is built from names and values. Every
// identifier is quoted, so case, spaces and non-ASCII survive; an embedded
// quote is doubled; literals rely on standard_conforming_strings (a backslash
// is an ordinary character).
#include "catch2/catch.hpp"
#include "sql/quote.h"

using dbsplit::sql::quoteIdent;
using dbsplit::sql::quoteIdentList;
using dbsplit::sql::quoteLiteral;
using dbsplit::sql::quoteQualified;

TEST_CASE("an identifier is always quoted, so case, spaces and non-ASCII survive unchanged",
          "[sql][unit]") {
  CHECK(quoteIdent("orders") == R"("orders")");
  CHECK(quoteIdent("Qty") == R"("Qty")");
  CHECK(quoteIdent("Sales Dept") == R"("Sales Dept")");
  CHECK(quoteIdent("Tëst ünïcode") == R"("Tëst ünïcode")");
  CHECK(quoteIdent("ключ") == R"("ключ")");
  CHECK(quoteIdent("select") == R"("select")");  // a keyword is a name like any other
}

TEST_CASE("an identifier's embedded double quotes are doubled, nothing else is escaped",
          "[sql][unit]") {
  CHECK(quoteIdent(R"(Order "Items")") == R"("Order ""Items""")");
  CHECK(quoteIdent(R"(")") == R"("""")");
  CHECK(quoteIdent(R"("")") == R"("""""")");
  CHECK(quoteIdent("it's -- x") == R"("it's -- x")");
  CHECK(quoteIdent("$dbsplit$") == R"("$dbsplit$")");
  CHECK(quoteIdent(R"(a\b)") == R"("a\b")");
  CHECK(quoteIdent("a;DROP TABLE t") == R"("a;DROP TABLE t")");
}

TEST_CASE("an empty identifier quotes to \"\", which PostgreSQL itself refuses", "[sql][unit]") {
  CHECK(quoteIdent("") == R"("")");
  CHECK(quoteQualified("", "") == R"(""."")");
}

TEST_CASE("a qualified name quotes schema and name apart, the dot never inside quotes",
          "[sql][unit]") {
  CHECK(quoteQualified("public", "orders") == R"("public"."orders")");
  CHECK(quoteQualified("Sales Dept", R"(Order "Items")") == R"("Sales Dept"."Order ""Items""")");
  CHECK(quoteQualified("a.b", "c") == R"("a.b"."c")");  // a dot in a name stays in the name
}

TEST_CASE("a list of identifiers is each quoted, comma-separated", "[sql][unit]") {
  CHECK(quoteIdentList({}) == "");
  CHECK(quoteIdentList({"id"}) == R"("id")");
  CHECK(quoteIdentList({"Order Id", "línea", R"(x"y)"}) == R"("Order Id", "línea", "x""y")");
}

TEST_CASE("a literal doubles its single quotes and keeps backslashes as they are", "[sql][unit]") {
  CHECK(quoteLiteral("") == "''");
  CHECK(quoteLiteral("plain") == "'plain'");
  CHECK(quoteLiteral("it's") == "'it''s'");
  CHECK(quoteLiteral("''") == "''''''");
  CHECK(quoteLiteral(R"(kept: it's the "original" comment)") ==
        R"('kept: it''s the "original" comment')");
  CHECK(quoteLiteral(R"(C:\path\n)") == R"('C:\path\n')");  // standard_conforming_strings = on
  CHECK(quoteLiteral("tëst's ключ") == "'tëst''s ключ'");
  CHECK(quoteLiteral("line 1\nline 2") == "'line 1\nline 2'");
  CHECK(quoteLiteral("$$; DROP TABLE t; --") == "'$$; DROP TABLE t; --'");
}
