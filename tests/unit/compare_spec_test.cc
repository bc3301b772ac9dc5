// compare's pure parts: the per-side SQL chosen from the catalog's column
// types, the checks on the input, and pg_snapshot parsing.
#include "catch2/catch.hpp"
#include "compare/settle.h"
#include "compare/table_spec.h"

using namespace dbsplit;
using namespace dbsplit::compare;

namespace {

Column col(const std::string& name, const std::string& base, bool not_null = false,
           const std::string& collation = "") {
  Column c;
  c.name = name;
  c.base_type = base;
  c.type = base;
  c.not_null = not_null;
  c.collation = collation;
  return c;
}

Relation rel(const std::string& schema, const std::string& name, std::vector<Column> columns) {
  Relation r;
  r.name = {schema, name};
  r.found = true;
  r.columns = std::move(columns);
  return r;
}

plan::Projection projection(std::vector<std::string> columns, std::vector<std::string> key) {
  plan::Projection p;
  p.consumer = "fulfillment";
  p.source = {"public", "orders"};
  p.name = "order_view";
  p.columns = std::move(columns);
  p.key = std::move(key);
  return p;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("same-family column types hash natively on each side", "[compare]") {
  auto p = projection({"id", "total", "at"}, {"id"});
  auto src = rel("public", "orders",
                 {col("id", "int4", true), col("total", "numeric"), col("at", "timestamptz")});
  auto tgt = rel("fulfillment", "order_view",
                 {col("id", "int8", true), col("total", "numeric"), col("at", "timestamptz")});
  TableSpec spec = buildSpec(p, src, tgt);
  CHECK(contains(spec.source.row_hash, "hashint4extended(\"id\", 1)"));
  CHECK(contains(spec.target.row_hash, "hashint8extended(\"id\", 1)"));
  CHECK(contains(spec.source.row_hash, "hash_numeric_extended(\"total\", 2)"));
  CHECK(contains(spec.target.row_hash, "(\"at\" AT TIME ZONE 'UTC')"));
  CHECK(spec.integer_key);
  CHECK(spec.source.table == "\"public\".\"orders\"");
  CHECK(spec.target.table == "\"fulfillment\".\"order_view\"");
  CHECK(spec.source.nullable_keys.empty());
}

TEST_CASE("column types of different families hash a canonical text on both sides", "[compare]") {
  auto p = projection({"id", "total", "doc"}, {"id"});
  auto src = rel("public", "orders",
                 {col("id", "int4", true), col("total", "numeric"), col("doc", "json")});
  auto tgt = rel("fulfillment", "order_view",
                 {col("id", "text", true), col("total", "int8"), col("doc", "jsonb")});
  TableSpec spec = buildSpec(p, src, tgt);
  CHECK(contains(spec.source.row_hash, "hashtextextended(trim_scale(\"total\")::text COLLATE"));
  CHECK(contains(spec.target.row_hash, "hashtextextended(\"total\"::text COLLATE"));
  CHECK(contains(spec.source.row_hash, "\"doc\"::jsonb::text"));
  CHECK(contains(spec.target.row_hash, "hashtextextended(\"doc\"::text COLLATE"));
  CHECK(!spec.integer_key);  // int4 against text orders differently
}

TEST_CASE("NULL stands for a different constant in every column", "[compare]") {
  auto p = projection({"id", "a", "b"}, {"id"});
  auto src = rel("public", "orders", {col("id", "int8", true), col("a", "text"), col("b", "text")});
  TableSpec spec = buildSpec(p, src, src);
  // Only nullable columns get a NULL stand-in, each its own.
  auto first = spec.source.row_hash.find("coalesce(");
  auto second = spec.source.row_hash.find("coalesce(", first + 1);
  REQUIRE(second != std::string::npos);
  auto constant = [&](size_t at) {
    auto q = spec.source.row_hash.find('\'', at);
    return spec.source.row_hash.substr(q, spec.source.row_hash.find('\'', q + 1) - q);
  };
  CHECK(constant(first) != constant(second));
  CHECK(spec.source.row_hash.find("coalesce(hashint8extended") == std::string::npos);
}

TEST_CASE("keys of different collations are ordered by bytes on both sides", "[compare]") {
  auto p = projection({"code"}, {"code"});
  auto src = rel("public", "orders", {col("code", "text", true, "en_US")});
  auto tgt = rel("fulfillment", "order_view", {col("code", "text", true, "C")});
  TableSpec spec = buildSpec(p, src, tgt);
  CHECK(spec.source.key_order[0] == "\"code\" COLLATE \"C\"");
  CHECK(spec.target.key_cast[0] == "::text COLLATE \"C\"");
  TableSpec same = buildSpec(p, src, src);
  CHECK(same.source.key_order[0] == "\"code\"");
}

TEST_CASE("bad input is refused before any data is read", "[compare]") {
  auto p = projection({"id", "qty"}, {"id"});
  auto src = rel("public", "orders", {col("id", "int8", true), col("qty", "int4")});
  SECTION("no projection table") {
    Relation missing;
    try {
      buildSpec(p, src, missing);
      FAIL("accepted");
    } catch (const Error& e) {
      CHECK(e.kind() == "projection_missing");
      CHECK(e.code() == ExitCode::kPrecondition);
      CHECK(e.hint() == "dbsplit run projections");
    }
  }
  SECTION("a projection column dropped or added") {
    auto dropped = rel("fulfillment", "order_view", {col("id", "int8", true)});
    CHECK_THROWS_WITH(buildSpec(p, src, dropped), Catch::Contains("no longer has"));
    auto added = rel("fulfillment", "order_view",
                     {col("id", "int8", true), col("qty", "int4"), col("note", "text")});
    CHECK_THROWS_WITH(buildSpec(p, src, added), Catch::Contains("no longer has"));
    // A relay's bookkeeping column is not a change.
    auto bookkeeping =
        rel("fulfillment", "order_view",
            {col("id", "int8", true), col("qty", "int4"), col("dbsplit_seq", "int8")});
    CHECK_NOTHROW(buildSpec(p, src, bookkeeping));
  }
  SECTION("a source column gone") {
    auto gone = rel("public", "orders", {col("id", "int8", true)});
    CHECK_THROWS_WITH(buildSpec(p, gone, src), Catch::Contains("has no column qty"));
  }
}

TEST_CASE("pg_snapshot text parses into xmin and xmax", "[compare]") {
  auto s = parseSnapshot("745:752:745,749");
  REQUIRE(s);
  CHECK(s->xmin == 745);
  CHECK(s->xmax == 752);
  auto big = parseSnapshot("18446744073709551000:18446744073709551001:");
  REQUIRE(big);
  CHECK(big->xmax == 18446744073709551001ULL);
  CHECK(!parseSnapshot("745"));
  CHECK(!parseSnapshot("a:b:"));
  CHECK(!parseSnapshot(":5:"));
}
