// The analysis on a hand-made catalog: read/write classification, columns,
// views, partitions, CTEs, functions and name resolution, without PostgreSQL.
#include <set>
#include <tuple>

#include "catalogue/analyzer.h"
#include "catalogue/pg_query.h"
#include "catch2/catch.hpp"

using namespace dbsplit::catalogue;

namespace {

Catalog shop() {
  Catalog c;
  std::uint32_t oid = 100;
  auto rel = [&](std::string schema, std::string name, std::vector<std::string> cols,
                 char kind = 'r', std::uint32_t root = 0, std::string def = {}) {
    Relation r;
    r.oid = ++oid;
    r.schema = std::move(schema);
    r.name = std::move(name);
    r.columns = std::move(cols);
    r.kind = kind;
    r.root = root;
    r.viewdef = std::move(def);
    c.addRelation(r);
    return r.oid;
  };
  rel("public", "orders", {"id", "customer_id", "status", "total"});
  rel("sales", "orders", {"id", "region"});
  rel("public", "customers", {"id", "name", "email"});
  rel("Billing Ünï", "Invoice \"Lines\"", {"Id", "Amount€"});
  std::uint32_t events = rel("public", "events", {"id", "at"}, 'p');
  rel("public", "events_2026", {"id", "at"}, 'r', events);
  rel("public", "order_summary", {"id", "status", "name"}, 'v', 0,
      " SELECT o.id, o.status, c.name FROM (public.orders o JOIN public.customers c ON "
      "((c.id = o.customer_id)));");
  rel("public", "open_orders", {"id", "status"}, 'v', 0,
      " SELECT order_summary.id, order_summary.status FROM public.order_summary WHERE "
      "(order_summary.status = 'open'::text);");
  rel("public", "paid_orders", {"id", "status"}, 'v', 0,
      " SELECT orders.id, orders.status FROM public.orders WHERE (orders.status = 'paid'::text);");
  Function f;
  f.oid = 900;
  f.schema = "public";
  f.name = "customer_count";
  f.language = "sql";
  f.identity = "public.customer_count()";
  f.body = "SELECT count(*) FROM public.customers";
  c.addFunction(f);
  Function g;
  g.oid = 901;
  g.schema = "public";
  g.name = "log_order";
  g.nargs = 1;
  g.language = "plpgsql";
  g.identity = "public.log_order(integer)";
  g.body =
      "CREATE FUNCTION public.log_order(o integer) RETURNS void LANGUAGE plpgsql AS $$\n"
      "BEGIN\n  UPDATE public.orders SET status = 'logged' WHERE id = o;\n"
      "  EXECUTE 'SELECT 1';\nEND $$";
  c.addFunction(g);
  // A view calling a function whose body names a table without its schema.
  rel("public", "region_stats", {"n"}, 'v', 0, " SELECT sales.region_count() AS n;");
  Function h;
  h.oid = 902;
  h.schema = "sales";
  h.name = "region_count";
  h.language = "sql";
  h.identity = "sales.region_count()";
  h.body = "SELECT count(*) FROM orders";
  c.addFunction(h);
  c.addSystemRelation("pg_class");
  return c;
}

using Triple = std::tuple<std::string, std::string, std::string>;  // table, kind, via

std::set<Triple> triples(const ShapeAnalysis& a) {
  std::set<Triple> out;
  for (const auto& x : a.accesses) out.insert({x.table, x.write ? "write" : "read", x.via});
  return out;
}

ShapeAnalysis run(const std::string& sql, std::vector<std::string> path = {"public"}) {
  static Catalog catalog = shop();
  Analyzer an(catalog);
  auto p = pgq::parse(sql);
  REQUIRE(p.ok());
  return an.analyze(p.tree, path);
}

std::set<std::string> columnsOf(const ShapeAnalysis& a, const std::string& table, bool write) {
  for (const auto& x : a.accesses) {
    if (x.table == table && x.write == write && x.via.empty()) return x.columns;
  }
  return {"<absent>"};
}

}  // namespace

TEST_CASE("select star expands to every column of the table", "[catalogue]") {
  auto a = run("SELECT * FROM orders WHERE id = $1");
  CHECK(triples(a) == std::set<Triple>{{"public.orders", "read", ""}});
  CHECK(columnsOf(a, "public.orders", false) ==
        std::set<std::string>{"id", "customer_id", "status", "total"});
}

TEST_CASE("the role's search_path decides which table an unqualified name is", "[catalogue]") {
  CHECK(triples(run("SELECT region FROM orders", {"sales", "public"})) ==
        std::set<Triple>{{"sales.orders", "read", ""}});
  CHECK(triples(run("SELECT 1 FROM orders", {"public"})) ==
        std::set<Triple>{{"public.orders", "read", ""}});
  CHECK(triples(run("SELECT relname FROM pg_class")).empty());
}

TEST_CASE("update from and delete using read the other tables and write the target",
          "[catalogue]") {
  auto u = run("UPDATE orders o SET status = c.name FROM customers c WHERE c.id = o.customer_id");
  CHECK(triples(u) == std::set<Triple>{{"public.orders", "write", ""},
                                       {"public.orders", "read", ""},
                                       {"public.customers", "read", ""}});
  CHECK(columnsOf(u, "public.orders", true) == std::set<std::string>{"status"});
  CHECK(columnsOf(u, "public.orders", false) == std::set<std::string>{"customer_id"});
  CHECK(columnsOf(u, "public.customers", false) == std::set<std::string>{"id", "name"});
  auto d = run("DELETE FROM orders USING customers WHERE customers.id = orders.customer_id");
  CHECK(triples(d) == std::set<Triple>{{"public.orders", "write", ""},
                                       {"public.orders", "read", ""},
                                       {"public.customers", "read", ""}});
}

TEST_CASE("insert select, data-modifying CTEs and MERGE are classified", "[catalogue]") {
  auto i = run("INSERT INTO sales.orders (id) SELECT id FROM public.orders");
  CHECK(triples(i) ==
        std::set<Triple>{{"sales.orders", "write", ""}, {"public.orders", "read", ""}});
  CHECK(columnsOf(i, "sales.orders", true) == std::set<std::string>{"id"});
  auto w =
      run("WITH gone AS (DELETE FROM orders WHERE status = 'x' RETURNING id) "
          "INSERT INTO events (id, at) SELECT id, now() FROM gone");
  CHECK(triples(w) == std::set<Triple>{{"public.orders", "write", ""},
                                       {"public.orders", "read", ""},
                                       {"public.events", "write", ""}});
  auto m = run(
      "MERGE INTO customers c USING orders o ON c.id = o.customer_id "
      "WHEN MATCHED THEN UPDATE SET name = 'x' WHEN NOT MATCHED THEN INSERT (id) VALUES (o.id)");
  CHECK(triples(m) == std::set<Triple>{{"public.customers", "write", ""},
                                       {"public.customers", "read", ""},
                                       {"public.orders", "read", ""}});
  CHECK(columnsOf(m, "public.customers", true) == std::set<std::string>{"id", "name"});
}

TEST_CASE("select for update counts as a write intent", "[catalogue]") {
  CHECK(triples(run("SELECT id FROM orders WHERE id = 1 FOR UPDATE")) ==
        std::set<Triple>{{"public.orders", "read", ""}, {"public.orders", "write", ""}});
  auto only = run("SELECT 1 FROM orders o JOIN customers c ON c.id = o.customer_id FOR SHARE OF c");
  CHECK(triples(only) == std::set<Triple>{{"public.orders", "read", ""},
                                          {"public.customers", "read", ""},
                                          {"public.customers", "write", ""}});
}

TEST_CASE("views expand recursively to their base tables", "[catalogue]") {
  auto v = run("SELECT * FROM open_orders");
  CHECK(triples(v) == std::set<Triple>{{"public.orders", "read", "view public.open_orders"},
                                       {"public.customers", "read", "view public.open_orders"}});
  auto w = run("UPDATE paid_orders SET status = 'x'");
  CHECK(triples(w) == std::set<Triple>{{"public.orders", "write", "view public.paid_orders"}});
}

TEST_CASE("partitions are reported as their partitioned root", "[catalogue]") {
  CHECK(triples(run("INSERT INTO events_2026 (id, at) VALUES (1, now())")) ==
        std::set<Triple>{{"public.events", "write", ""}});
}

TEST_CASE("a function a view calls runs its body with the reader's search_path", "[catalogue]") {
  auto sales_first = run("SELECT n FROM region_stats", {"sales", "public"});
  CHECK(sales_first.problems.empty());
  CHECK(triples(sales_first).count({"sales.orders", "read", "view public.region_stats"}) == 1);
  auto public_only = run("SELECT n FROM region_stats", {"public"});
  CHECK(triples(public_only).count({"public.orders", "read", "view public.region_stats"}) == 1);
}

TEST_CASE("function calls bring the tables their bodies touch", "[catalogue]") {
  CHECK(triples(run("SELECT customer_count()")) ==
        std::set<Triple>{{"public.customers", "read", "function public.customer_count()"}});
  auto p = run("SELECT log_order(5)");
  CHECK(triples(p) ==
        std::set<Triple>{{"public.orders", "write", "function public.log_order(integer)"},
                         {"public.orders", "read", "function public.log_order(integer)"}});
  REQUIRE(p.problems.size() == 1);  // the EXECUTE cannot be followed, and says so
  CHECK(p.problems[0].find("dynamic SQL") != std::string::npos);
}

TEST_CASE("quoted mixed-case and non-ASCII names resolve exactly", "[catalogue]") {
  auto a = run(R"(SELECT "Id", "Amount€" FROM "Billing Ünï"."Invoice ""Lines""")");
  CHECK(triples(a) == std::set<Triple>{{"Billing Ünï.Invoice \"Lines\"", "read", ""}});
  CHECK(columnsOf(a, "Billing Ünï.Invoice \"Lines\"", false) ==
        std::set<std::string>{"Id", "Amount€"});
}

TEST_CASE("unknown relations are problems, never silently dropped", "[catalogue]") {
  auto a = run("SELECT * FROM nowhere JOIN orders ON true");
  CHECK(triples(a) == std::set<Triple>{{"public.orders", "read", ""}});
  REQUIRE(a.problems.size() == 1);
  CHECK(a.problems[0].find("\"nowhere\"") != std::string::npos);
}

TEST_CASE("subqueries and correlated references find their own tables", "[catalogue]") {
  auto a =
      run("SELECT o.id FROM orders o WHERE EXISTS (SELECT 1 FROM customers c WHERE c.id = "
          "o.customer_id AND email = 'x')");
  CHECK(columnsOf(a, "public.orders", false) == std::set<std::string>{"id", "customer_id"});
  CHECK(columnsOf(a, "public.customers", false) == std::set<std::string>{"id", "email"});
}

TEST_CASE("copy, truncate and DO blocks are classified", "[catalogue]") {
  CHECK(triples(run("COPY orders (id, status) FROM STDIN")) ==
        std::set<Triple>{{"public.orders", "write", ""}});
  CHECK(columnsOf(run("COPY orders TO STDOUT"), "public.orders", false).size() == 4);
  CHECK(triples(run("COPY (SELECT name FROM customers) TO STDOUT")) ==
        std::set<Triple>{{"public.customers", "read", ""}});
  CHECK(triples(run("TRUNCATE orders, sales.orders")) ==
        std::set<Triple>{{"public.orders", "write", ""}, {"sales.orders", "write", ""}});
  CHECK(triples(run("DO $$BEGIN DELETE FROM public.customers WHERE id = 1; END$$")) ==
        std::set<Triple>{{"public.customers", "write", ""}, {"public.customers", "read", ""}});
  CHECK(triples(run("SET search_path = x")).empty());
}
