// The split step in schema mode: the gate lists exactly the function bodies
// that name moving tables without a schema; with the plan's acceptance the
// tables (a partitioned one with its partition, identity and serial sequences
// following) move into the owner's schema; the owner's application SQL keeps
// working unqualified; rollback restores pg_dump and role settings exactly;
// a fault at every action boundary, then resume or rollback.
#include "catch2/catch.hpp"
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

std::vector<std::string> actionIds(const SplitScenario& s) {
  std::vector<std::string> ids;
  CliResult r = s.cli({"plan", "split", "--json"});
  for (const auto& a : eventsOf(jsonLines(r.out), "action")) ids.push_back(a["id"]);
  return ids;
}

std::string schemaOf(TestDb& db, const std::string& rel) {
  return db.scalar(
      "SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
      "WHERE c.relname = '" +
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

TEST_CASE("split schema mode: gate, move, unqualified application SQL, exact rollback",
          "[split][pg]") {
  SplitScenario s({"orders"}, kSetup, kPlan, {{"orders", {"app", "app2"}}});
  s.advanceTo("split");
  TestDb& db = s.db();
  const std::string before = db.schemaDump();
  const std::string settings = s.roleSettings();

  CliResult blocked = s.cli({"run", "split"});
  INFO(blocked.out << blocked.err);
  CHECK(blocked.exit_code == 3);
  const std::string all = blocked.out + blocked.err;
  CHECK(all.find("2 object(s) would break") != std::string::npos);
  CHECK(all.find("function public.order_count() names orders without a schema") !=
        std::string::npos);
  CHECK(all.find("function public.log_order() names events without a schema") != std::string::npos);
  CHECK(all.find("qualified_count") == std::string::npos);
  CHECK(all.find("view public.order_totals") != std::string::npos);  // listed as following
  CHECK(db.schemaDump() == before);

  s.setPlanExtra("[step.split]\nallow_unqualified = true\n");
  CliResult dry = s.cli({"run", "split", "--dry-run"});
  INFO(dry.out << dry.err);
  REQUIRE(dry.exit_code == 0);
  CHECK(dry.out.find("SET SCHEMA \"" + s.service("orders") + "\"") != std::string::npos);
  CHECK(db.schemaDump() == before);
  CHECK(actionIds(s) ==
        std::vector<std::string>{"split/move/public.customers", "split/move/public.orders",
                                 "split/move/public.events", "split/move/public.events_2026",
                                 "split/search_path/" + s.role("app"),
                                 "split/search_path/" + s.role("app2")});

  CliResult rehearse = s.cli({"run", "split", "--rehearse"});
  INFO(rehearse.out << rehearse.err);
  REQUIRE(rehearse.exit_code == 0);
  CHECK(db.schemaDump() == before);

  CliResult run = s.cli({"run", "split"});
  INFO(run.out << run.err);
  REQUIRE(run.exit_code == 0);
  const std::string svc = s.service("orders");
  for (const char* rel : {"customers", "orders", "events", "events_2026", "orders_id_seq",
                          "customers_id_seq", "orders_pkey", "unrelated"}) {
    INFO(rel);
    CHECK(schemaOf(db, rel) == (std::string(rel) == "unrelated" ? "public" : svc));
  }
  CHECK(db.scalar("SELECT count(*) FROM pg_trigger WHERE tgname = 'orders_log'") == "1");
  applicationWorks(s, s.role("app"));
  applicationWorks(s, s.role("app2"));
  // app2 had `public, "$user"` in this database; app had nothing.
  CHECK(s.roleSettings().find("search_path=" + svc + ", public, \\\"$user\\\"") !=
        std::string::npos);
  CHECK(s.roleSettings().find("search_path=" + svc + ", \\\"$user\\\", public") !=
        std::string::npos);
  // A dry-run of the applied step plans nothing new.
  CHECK(s.cli({"run", "split", "--dry-run"}).exit_code == 0);

  db.exec("DELETE FROM \"" + svc + "\".orders; DELETE FROM \"" + svc + "\".events; DELETE FROM \"" +
          svc + "\".customers");
  CliResult rb = s.cli({"rollback", "split"});
  INFO(rb.out << rb.err);
  REQUIRE(rb.exit_code == 0);
  CHECK(db.schemaDump() == before);
  CHECK(s.roleSettings() == settings);
}

TEST_CASE("a fault at every split (schema mode) action boundary, then resume or rollback",
          "[split][pg][slow]") {
  SplitScenario s({"orders"}, kSetup, kPlan, {{"orders", {"app", "app2"}}});
  s.setPlanExtra("[step.split]\nallow_unqualified = true\n");
  s.advanceTo("split");
  const std::string original = s.db().schemaDump();
  const std::string settings = s.roleSettings();
  const std::vector<std::string> ids = actionIds(s);
  REQUIRE(ids.size() == 6);
  REQUIRE(s.cli({"run", "split"}).exit_code == 0);
  const std::string applied = s.db().schemaDump();
  const std::string applied_settings = s.roleSettings();
  REQUIRE(s.cli({"rollback", "split"}).exit_code == 0);
  REQUIRE(s.db().schemaDump() == original);

  bool use_resume = true;
  for (const std::string& id : ids) {
    for (const std::string point : {"before", "after"}) {
      INFO("fault " << id << ":" << point);
      CliResult crash = s.cli({"run", "split"}, {{"DBSPLIT_FAULT", id + ":" + point}});
      REQUIRE(crash.exit_code == 128 + 9);
      CHECK(s.stepStatus("split")["status"] == "applying");
      if (use_resume) {
        CliResult resume = s.cli({"resume"});
        INFO(resume.out << resume.err);
        REQUIRE(resume.exit_code == 0);
        CHECK(s.db().schemaDump() == applied);
        CHECK(s.roleSettings() == applied_settings);
        REQUIRE(s.cli({"rollback", "split"}).exit_code == 0);
      } else {
        CliResult rb = s.cli({"rollback", "split"});
        INFO(rb.out << rb.err);
        REQUIRE(rb.exit_code == 0);
      }
      CHECK(s.db().schemaDump() == original);
      CHECK(s.roleSettings() == settings);
      use_resume = !use_resume;
    }
  }
}
