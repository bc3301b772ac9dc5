#include "support/catalogue_workload.h"
#include "sql/quote.h"
#include "support/pg_test.h"

#include <sstream>
#include <vector>

namespace dbsplit::test {
namespace {

using dbsplit::sql::quoteIdent;

void runAs(const std::string& dsn, const std::vector<std::string>& statements) {
  auto c = connect(dsn);
  for (const auto& s : statements) c->exec(s);
}

}  // namespace

std::string shopSchemaSql(const ShopRoles& r) {
  std::string all = quoteIdent(r.orders) + ", " + quoteIdent(r.fulfillment) + ", " +
                    quoteIdent(r.billing) + ", " + quoteIdent(r.stray);
  return R"SQL(
CREATE SCHEMA sales;
CREATE SCHEMA "Billing Ünï";
CREATE TABLE public.orders (id int PRIMARY KEY, customer_id int, status text, total numeric);
CREATE TABLE sales.orders (id int PRIMARY KEY, region text);
CREATE TABLE public.customers (id int PRIMARY KEY, name text, email text);
CREATE TABLE "Billing Ünï"."Invoice ""Lines""" ("Id" int PRIMARY KEY, "Amount€" numeric, order_id int);
CREATE TABLE public.events (id int, at date, payload text) PARTITION BY RANGE (at);
CREATE TABLE public.events_2026 PARTITION OF public.events
  FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE TABLE public.audit_log (id serial, note text);
CREATE VIEW public.order_summary AS
  SELECT o.id, o.status, c.name FROM public.orders o JOIN public.customers c ON c.id = o.customer_id;
CREATE VIEW public.open_orders AS SELECT id, status FROM public.order_summary WHERE status = 'open';
CREATE FUNCTION public.log_note(n text) RETURNS void LANGUAGE plpgsql
  AS $$ BEGIN INSERT INTO public.audit_log (note) VALUES (n); END $$;
CREATE FUNCTION public.customer_count() RETURNS bigint LANGUAGE sql
  AS 'SELECT count(*) FROM public.customers';
ALTER ROLE )SQL" +
         quoteIdent(r.billing) + R"SQL( SET search_path = sales, public;
GRANT USAGE ON SCHEMA sales, "Billing Ünï" TO )SQL" +
         all + R"SQL(;
GRANT ALL ON ALL TABLES IN SCHEMA public, sales, "Billing Ünï" TO )SQL" +
         all + R"SQL(;
GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO )SQL" +
         all + ";\n";
}

void runShopWorkload(const ShopRoles& r,
                     const std::function<std::string(const std::string&)>& dsn_for) {
  runAs(dsn_for(r.orders),
        {"INSERT INTO customers (id, name, email) VALUES (1, 'a', 'b')",
         "INSERT INTO orders (id, customer_id, status, total) VALUES (1, 1, 'open', 10)",
         "UPDATE orders SET status = 'paid' WHERE id = 1",
         "WITH moved AS (DELETE FROM orders WHERE status = 'cancelled' RETURNING id, total)\n"
         "INSERT INTO events (id, at, payload) SELECT id, '2026-05-01', total::text FROM moved",
         "SELECT log_note('x')"});
  runAs(dsn_for(r.fulfillment),
        {"SELECT * FROM order_summary WHERE id = 1", "SELECT id FROM open_orders",
         "SELECT id, status FROM orders WHERE id = 1 FOR UPDATE",
         "INSERT INTO events_2026 (id, at) VALUES (5, '2026-02-02')"});
  runAs(dsn_for(r.billing),
        {"SELECT region FROM orders",
         "INSERT INTO \"Billing Ünï\".\"Invoice \"\"Lines\"\"\" (\"Id\", \"Amount€\", order_id)\n"
         "SELECT o.id, o.total, o.id FROM public.orders o",
         "SELECT customer_count()"});
  runAs(dsn_for(r.stray),
        {"SELECT count(*) FROM customers",
         "MERGE INTO customers c USING (SELECT 2 AS id, 'n' AS name) s ON c.id = s.id\n"
         "WHEN MATCHED THEN UPDATE SET name = s.name\n"
         "WHEN NOT MATCHED THEN INSERT (id, name) VALUES (s.id, s.name)"});
}

std::string shopPlan(const ShopRoles& r, const std::string& extra) {
  auto str = [](const std::string& s) { return nlohmann::json(s).dump(); };
  std::ostringstream p;
  p << "[migration]\nname = \"shop\"\n\n"
    << "[[service]]\nname = \"orders\"\nroles = [" << str(r.orders) << "]\n\n"
    << "[[service]]\nname = \"fulfillment\"\nroles = [" << str(r.fulfillment) << "]\n\n"
    << "[[service]]\nname = \"billing\"\nroles = [" << str(r.billing) << "]\n\n"
    << "[[table]]\nname = \"public.orders\"\nowner = \"orders\"\n\n"
    << extra;
  return p.str();
}

std::set<AccessTriple> expectedShopAccesses() {
  const std::string billing_lines = "Billing Ünï.Invoice \"Lines\"";
  return {
      {"orders", "public.customers", "write"},
      {"orders", "public.orders", "write"},
      {"orders", "public.orders", "read"},  // UPDATE ... WHERE id, the CTE's DELETE
      {"orders", "public.events", "write"},
      {"orders", "public.audit_log", "write"},  // through log_note()
      {"fulfillment", "public.orders", "read"},
      {"fulfillment", "public.customers", "read"},  // through both views
      {"fulfillment", "public.orders", "write"},    // SELECT ... FOR UPDATE
      {"fulfillment", "public.events", "write"},    // a partition: its root
      {"billing", "sales.orders", "read"},          // search_path sales, public
      {"billing", billing_lines, "write"},
      {"billing", "public.orders", "read"},
      {"billing", "public.customers", "read"},  // through customer_count()
      {"unassigned", "public.customers", "read"},
      {"unassigned", "public.customers", "write"},  // MERGE
  };
}

std::set<AccessTriple> accessTriples(const nlohmann::json& snapshot) {
  std::set<AccessTriple> out;
  for (const auto& a : snapshot.at("accesses")) {
    out.insert({a.at("service").get<std::string>(), a.at("table").get<std::string>(),
                a.at("kind").get<std::string>()});
  }
  return out;
}

}  // namespace dbsplit::test
