#include "support/ownership_fixture.h"

#include <iostream>

#include "catch2/catch.hpp"
#include "journal/journal.h"
#include "nlohmann/json.hpp"
#include "sql/quote.h"

namespace dbsplit::test {
namespace {

using dbsplit::sql::quoteIdent;

std::string replaceAll(std::string text, const std::string& from, const std::string& to) {
  for (size_t pos = text.find(from); pos != std::string::npos;
       pos = text.find(from, pos + to.size())) {
    text.replace(pos, from.size(), to);
  }
  return text;
}

// {name} placeholders are replaced by the quoted test roles.
const char* kFixture = R"SQL(
CREATE SCHEMA "Sales Dept";
GRANT USAGE ON SCHEMA "Sales Dept" TO PUBLIC;
-- relacl stays NULL here: only column privileges
CREATE TABLE public."Tëst ünïcode" ("ключ" int PRIMARY KEY, note text);
GRANT UPDATE (note), SELECT ("ключ") ON public."Tëst ünïcode" TO {ful_app};

ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT ON TABLES TO {reporter};
ALTER DEFAULT PRIVILEGES GRANT USAGE ON SEQUENCES TO {ful_app};

CREATE TABLE public.orders (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  status text,
  total numeric
);
GRANT SELECT, UPDATE ON public.orders TO {grantor} WITH GRANT OPTION;
GRANT INSERT ON public.orders TO {grantor};
SET ROLE {grantor};
GRANT UPDATE ON public.orders TO {ful_app};
GRANT SELECT ON public.orders TO {ful_app} WITH GRANT OPTION;
SET ROLE {admin};
GRANT SELECT ON public.orders TO {ful_app};
GRANT UPDATE (status), SELECT (total) ON public.orders TO {ful_app};
GRANT SELECT, INSERT, UPDATE, DELETE ON public.orders TO PUBLIC;
GRANT INSERT, UPDATE ON public.orders TO {orders_app};
COMMENT ON TABLE public.orders IS 'the orders';

CREATE TABLE public.order_items (id serial PRIMARY KEY, order_id bigint, qty int);
RESET ROLE;  -- a superuser hands tables to the application roles
ALTER TABLE public.order_items OWNER TO {orders_app};
GRANT SELECT, TRUNCATE ON public.order_items TO {ful_app};

CREATE TABLE "Sales Dept"."Order ""Items""" (id int PRIMARY KEY, "Qty" int);
ALTER TABLE "Sales Dept"."Order ""Items""" OWNER TO {legacy};
GRANT DELETE ON "Sales Dept"."Order ""Items""" TO {ful_app};
COMMENT ON TABLE "Sales Dept"."Order ""Items""" IS 'kept: it''s the "original" comment';
SET ROLE {admin};

CREATE TABLE public.events (id int NOT NULL, at date NOT NULL) PARTITION BY RANGE (at);
CREATE TABLE public.events_2026 PARTITION OF public.events
  FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
REVOKE ALL ON public.events FROM {reporter};
GRANT SELECT, INSERT ON public.events TO PUBLIC;
GRANT INSERT ON public.events_2026 TO {ful_app};

CREATE VIEW public.order_totals AS SELECT id, total FROM public.orders;
GRANT SELECT ON public.order_totals TO {ful_app};
)SQL";

}  // namespace

RoleCleanup::~RoleCleanup() {
  for (const auto& r : roles_) {
    try {
      auto c = connect(sandboxDsn());
      c->exec("SET client_min_messages = warning");
      c->exec("DROP ROLE IF EXISTS " + dbsplit::sql::quoteIdent(r));
    } catch (const std::exception& e) {
      std::cerr << "warning: dropping role " << r << ": " << e.what() << "\n";
    }
  }
}

std::vector<std::string> ownershipTables() {
  return {"public.orders", "public.order_items", R"("Sales Dept"."Order ""Items""")",
          R"(public."Tëst ünïcode")", "public.events"};
}

OwnershipScenario::OwnershipScenario(const std::string& extra_plan, bool with_fixture) {
  owner_ = db_.name() + "_orders";
  consumer_ = db_.name() + "_ful";
  cleanup_.add(owner_);
  cleanup_.add(consumer_);
  roles_["orders_app"] = db_.role("orders_app");
  roles_["ful_app"] = db_.role("ful_app");
  roles_["reporter"] = db_.role("Rep \"ö\"");
  roles_["grantor"] = db_.role("grantor");
  roles_["legacy"] = db_.role("legacy");
  if (with_fixture) {
    std::string sql = kFixture;
    for (const auto& [base, name] : roles_)
      sql = replaceAll(sql, "{" + base + "}", quoteIdent(name));
    sql = replaceAll(sql, "{admin}", quoteIdent(db_.adminRole()));
    db_.exec(sql);
  }
  dir_.write("app.sql", "SELECT 1;\n");
  writePlan(with_fixture ? ownershipTables() : std::vector<std::string>{}, extra_plan);
}

void OwnershipScenario::writePlan(const std::vector<std::string>& tables,
                                  const std::string& extra) {
  auto s = [](const std::string& v) { return nlohmann::json(v).dump(); };
  std::string plan = "[migration]\nname = \"t\"\n\n";
  plan += "[[service]]\nname = " + s(owner_) + "\nroles = [" + s(roles_["orders_app"]) + "]\n\n";
  plan += "[[service]]\nname = " + s(consumer_) + "\nroles = [" + s(roles_["ful_app"]) + "]\n\n";
  for (const auto& t : tables)
    plan += "[[table]]\nname = " + s(t) + "\nowner = " + s(owner_) + "\n\n";
  plan +=
      "[step.catalogue]\nsources = [" + s("sql:" + dir_.file("app.sql") + "@" + owner_) + "]\n\n";
  plan += extra;
  dir_.write("dbsplit.toml", plan);
}

std::vector<std::string> OwnershipScenario::cliArgs(const std::vector<std::string>& args) const {
  std::vector<std::string> all = {"--plan", planPath(), "--dsn", db_.dsn(), "--no-progress"};
  all.insert(all.end(), args.begin(), args.end());
  return all;
}

CliResult OwnershipScenario::cli(const std::vector<std::string>& args,
                                 const std::map<std::string, std::string>& env) const {
  return runCli(cliArgs(args), env);
}

void OwnershipScenario::runCatalogue() const {
  CliResult r = cli({"run", "catalogue"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
}

void OwnershipScenario::addSnapshot(const std::string& body) const {
  auto j = journal::Journal::open(journalPath(), journal::Journal::Mode::kReadWrite);
  j->addSnapshot("catalogue", body);
}

std::string OwnershipScenario::aclState() const {
  // A managed admin gives a NULL ACL back as the owner's defaults written out
  // (acl::NullAcl::kExplicitDefault): the same privileges and pg_dump, so the
  // two forms compare equal there.
  const std::string null_acl =
      db_.managed() ? "acldefault(CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END::\"char\", "
                      "c.relowner)::text"
                    : "'NULL'";
  std::string out;
  for (const auto& row :
       db_.rows("SELECT c.oid::regclass::text, c.relkind, c.relowner::regrole::text,"
                "       coalesce(c.relacl::text, " +
                null_acl +
                "),"
                "       coalesce(obj_description(c.oid, 'pg_class'), 'NULL'),"
                "       (SELECT coalesce(string_agg(a.attname || '=' || a.attacl::text, ' '"
                "                        ORDER BY a.attnum), '')"
                "          FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attacl IS NOT NULL)"
                "  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname IN ('public', 'Sales Dept') ORDER BY 1")) {
    for (const auto& cell : row) out += cell + " | ";
    out += "\n";
  }
  return out;
}

}  // namespace dbsplit::test
