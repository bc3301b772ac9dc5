// The split step in schema mode: the gate lists exactly the function bodies
// that name moving tables without a schema; with the plan's acceptance the
// tables (a partitioned one with its partition, identity and serial sequences
// following) move into the owner's schema; the owner's application SQL keeps
// working unqualified; through the lifecycle harness (support/lifecycle.h),
// also with hostile identifiers: rollback restores pg_dump and role settings
// exactly; a fault at every action boundary, then resume or rollback.
#include "catch2/catch.hpp"
#include "support/hostile.h"
#include "support/lifecycle.h"
#include "support/scenario.h"
#include "support/split_fixture.h"

using namespace dbsplit::test;

namespace {

const char* kSetup = R"SQL(
CREATE TABLE public.customers (
  id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name text NOT NULL CHECK (name <> ''));
CREATE TABLE public.orders (
  id serial PRIMARY KEY,
  customer_id int REFERENCES public.customers (id),
  total numeric NOT NULL DEFAULT 0 CHECK (total >= 0));
CREATE TABLE public.events (id bigint NOT NULL, at date NOT NULL, PRIMARY KEY (id, at))
  PARTITION BY RANGE (at);
CREATE TABLE public.events_2026 PARTITION OF public.events
  FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE TABLE public.unrelated (id int PRIMARY KEY);
CREATE VIEW public.order_totals AS
  SELECT customer_id, sum(total) AS total FROM orders GROUP BY customer_id;
CREATE FUNCTION public.order_count() RETURNS bigint LANGUAGE sql
  AS 'SELECT count(*) FROM orders';
CREATE FUNCTION public.qualified_count() RETURNS bigint LANGUAGE sql
  AS 'SELECT count(*) FROM public.orders o JOIN public.unrelated u ON u.id = o.id';
CREATE FUNCTION public.log_order() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO events VALUES (NEW.id, '2026-06-01') ON CONFLICT DO NOTHING;
  RETURN NEW;
END $$;
CREATE TRIGGER orders_log AFTER INSERT ON public.orders
  FOR EACH ROW EXECUTE FUNCTION public.log_order();
CREATE FUNCTION public.dyn_count() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
  SELECT count(*) INTO n FROM orders;
  EXECUTE 'SELECT count(*) FROM customers' INTO n;
  RETURN n;
END $$;
ALTER ROLE "@app2@" IN DATABASE "@db@" SET search_path = public, "$user";
)SQL";

const char* kPlan = R"TOML(
[[table]]
name = "public.customers"
owner = "@orders@"

[[table]]
name = "public.orders"
owner = "@orders@"

[[table]]
name = "public.events"
owner = "@orders@"
)TOML";

std::string schemaOf(TestDb& db, const std::string& rel) {
  return db.scalar(
      "SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
      "WHERE c.relkind <> 'v' AND c.relname = '" +
      rel + "'");
}

// The application, as the owner's login role, with no schema in its SQL.
void applicationWorks(const SplitScenario& s, const std::string& role) {
  auto c = connect(s.roleDsn(role));
  pg::Transaction tx(*c);
  c->exec("INSERT INTO customers (name) VALUES ('ann')");
  c->exec("INSERT INTO orders (customer_id, total) SELECT max(id), 5 FROM customers");
  CHECK(c->exec("SELECT count(*) FROM events")[0][0].as<int>() >= 1);  // the trigger wrote it
  CHECK(c->exec("SELECT order_count()")[0][0].as<int>() >= 1);
  CHECK(c->exec("SELECT count(*) FROM order_totals")[0][0].as<int>() >= 1);
  tx.commit();
}

}  // namespace

TEST_CASE(
    "split schema mode: the gate lists exactly the function bodies that name moving tables "
    "without a schema and that no pinned search_path can keep working",
    "[split][pg]") {
  SplitScenario s({"orders"}, kSetup, kPlan, {{"orders", {"app", "app2"}}});
  s.advanceTo("split");
  const std::string before = s.db().schemaDump();
  CliResult blocked = s.cli({"run", "split"});
  INFO(blocked.out << blocked.err);
  CHECK(blocked.exit_code == 3);
  const std::string all = blocked.out + blocked.err;
  CHECK(all.find("1 object(s) would break") != std::string::npos);
  // Dynamic SQL cannot be analysed: the function stays listed.
  CHECK(all.find("function public.dyn_count() names orders without a schema") != std::string::npos);
  // The analysable ones get a pinned search_path instead.
  CHECK(all.find("2 function(s) that name moving relations without a schema get a pinned "
                 "search_path first (split/pin_search_path) and keep working: "
                 "public.log_order(), public.order_count()") != std::string::npos);
  CHECK(all.find("qualified_count") == std::string::npos);
  CHECK(all.find("view public.order_totals") != std::string::npos);  // listed as following
  CHECK(s.db().schemaDump() == before);
}

TEST_CASE(
    "split gate: no object dbsplit made is listed and no function whose string literal only "
    "equals a moving table's name",
    "[split][pg]") {
  // The outbox's trigger functions hold their aggregate_type ('orders') and
  // source ('public.orders') as string literals; so does the user's label().
  SplitScenario s({"orders"},
                  std::string(kSetup) +
                      "CREATE FUNCTION public.label() RETURNS text LANGUAGE sql\n"
                      "  AS $$SELECT 'orders'::text || 'customers'$$;\n",
                  std::string(kPlan) +
                      "\n[[event]]\ntable = \"public.orders\"\naggregate_type = \"orders\"\n"
                      "\n[[event]]\ntable = \"public.customers\"\naggregate_type = "
                      "\"customers\"\n",
                  {{"orders", {"app", "app2"}}});
  s.advanceTo("split");
  REQUIRE(s.db().scalar("SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = "
                        "p.pronamespace WHERE n.nspname = '" +
                        s.service("orders") + "' AND p.proname LIKE 'outbox\\_%'") == "2");
  CliResult blocked = s.cli({"run", "split"});
  INFO(blocked.out << blocked.err);
  CHECK(blocked.exit_code == 3);
  const std::string all = blocked.out + blocked.err;
  CHECK(all.find("1 object(s) would break") != std::string::npos);
  CHECK(all.find("public.dyn_count() names orders") != std::string::npos);
  CHECK(all.find("outbox_") == std::string::npos);
  CHECK(all.find("label") == std::string::npos);
}

namespace {

// The lifecycle below, as the superuser or as a managed admin (support/pg_test.h).
void splitSchemaLifecycle(bool managed) {
  if (managed) useAdmin(Admin::kManaged);
  Lifecycle<SplitScenario> c;
  c.step = "split";
  c.build = [] {
    auto s = std::make_unique<SplitScenario>(
        std::vector<std::string>{"orders"}, kSetup, kPlan,
        std::map<std::string, std::vector<std::string>>{{"orders", {"app", "app2"}}});
    s->setPlanExtra("[step.split]\nallow_unqualified = true\n");
    s->advanceTo("split");
    return s;
  };
  c.state = [](SplitScenario& s) { return s.roleSettings(); };
  c.actions = [](SplitScenario& s, const std::vector<std::string>& ids) {
    CHECK(ids == std::vector<std::string>{
                     "split/search_path/" + s.role("app"), "split/search_path/" + s.role("app2"),
                     "split/pin_search_path/public.log_order()",
                     "split/pin_search_path/public.order_count()", "split/move/public.customers",
                     "split/move/public.orders", "split/move/public.events",
                     "split/move/public.events_2026"});
  };
  c.dry_run = [](SplitScenario& s, const CliResult& dry) {
    CHECK(dry.out.find("SET SCHEMA \"" + s.service("orders") + "\"") != std::string::npos);
  };
  c.applied = [](SplitScenario& s) {
    const std::string svc = s.service("orders");
    for (const char* rel : {"customers", "orders", "events", "events_2026", "orders_id_seq",
                            "customers_id_seq", "orders_pkey", "unrelated"}) {
      INFO(rel);
      CHECK(schemaOf(s.db(), rel) == (std::string(rel) == "unrelated" ? "public" : svc));
    }
    CHECK(s.db().scalar("SELECT count(*) FROM pg_trigger WHERE tgname = 'orders_log'") == "1");
    // Pinned: the function finds the moved table for any caller, whatever its path.
    CHECK(s.db().scalar("SELECT public.order_count() >= 0") == "t");
    CHECK(s.db().scalar("SELECT array_to_string(proconfig, ' ') FROM pg_proc WHERE proname = "
                        "'order_count'") == "search_path=" + svc + ", \"$user\", public");
    // app2 had `public, "$user"` in this database; app had nothing.
    CHECK(s.roleSettings().find("search_path=" + svc + ", public, \\\"$user\\\"") !=
          std::string::npos);
    CHECK(s.roleSettings().find("search_path=" + svc + ", \\\"$user\\\", public") !=
          std::string::npos);
  };
  // Once: it writes rows.
  c.apply = [](SplitScenario& s, const CliResult&) {
    applicationWorks(s, s.role("app"));
    applicationWorks(s, s.role("app2"));
  };
  c.before_rollback = [](SplitScenario& s) {
    const std::string svc = s.service("orders");
    s.db().exec("DELETE FROM \"" + svc + "\".orders; DELETE FROM \"" + svc +
                "\".events; DELETE FROM \"" + svc + "\".customers");
  };
  c.recovery = Recovery::kAlternate;
  c.status_tells_committed = true;  // transactional actions in one database
  // As the managed admin only the CREATE granted around each compatibility view
  // differs, inside the same action: the fault loop runs as the superuser (the
  // suite's 15 minutes).
  if (managed) c.faults = false;
  runLifecycle(c);
}

}  // namespace

TEST_CASE(
    "split schema mode with the plan's acceptance: move, unqualified application SQL, exact "
    "rollback, also after a fault at every action boundary",
    "[split][pg][slow]") {
  splitSchemaLifecycle(false);
}

TEST_CASE(
    "split schema mode as a managed admin (no superuser): move, unqualified application SQL, exact "
    "rollback",
    "[split][pg][slow][managed]") {
  splitSchemaLifecycle(true);
}

TEST_CASE(
    "split schema mode with hostile identifiers: move, exact rollback, also after a fault at "
    "every action boundary",
    "[split][pg][slow]") {
  Lifecycle<SplitScenario> c;
  c.step = "split";
  c.build = [] {
    std::string plan;
    for (const std::string& t : hostileTables()) {
      // TOML literal strings: the names hold no ' to escape.
      REQUIRE(t.find('\'') == std::string::npos);
      plan += "[[table]]\nname = '" + t + "'\nowner = \"@orders@\"\n\n";
    }
    auto s = std::make_unique<SplitScenario>(
        std::vector<std::string>{"orders"}, kHostileSchema, plan,
        std::map<std::string, std::vector<std::string>>{{"orders", {"app"}}});
    s->advanceTo("split");
    return s;
  };
  c.state = [](SplitScenario& s) { return s.roleSettings(); };
  c.applied = [](SplitScenario& s) {
    const std::string svc = s.service("orders");
    for (const char* rel : {"Order \"Items\"", "plain", "Tëst ünïcode", "events", "events_2026"}) {
      INFO(rel);
      CHECK(schemaOf(s.db(), rel) == svc);
    }
    CHECK(s.db().scalar("SELECT count(*) FROM pg_namespace WHERE nspname = 'Sales Dept'") == "1");
    // The comment the table had moves with it.
    CHECK(s.db()
              .scalar("SELECT obj_description('\"" + svc + "\".plain'::regclass)")
              .rfind("kept: it's the \"original\" comment", 0) == 0);
  };
  c.recovery = Recovery::kAlternate;
  c.status_tells_committed = true;  // transactional actions in one database
  runLifecycle(c);
}
