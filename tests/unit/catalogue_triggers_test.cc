// Triggers and rules fired by writes, on a hand-made catalog: which statement
// kinds fire which triggers, UPDATE OF columns, chains and recursion,
// partitioned roots, INSTEAD OF triggers on views, rules, hostile names, and
// dbsplit's own outbox triggers (recognised, so the loader leaves them out).
#include <optional>
#include <set>
#include <tuple>

#include "catalogue/analyzer.h"
#include "catalogue/pg_query.h"
#include "catch2/catch.hpp"
#include "steps/outbox/sql.h"

using namespace dbsplit::catalogue;

namespace {

struct Builder {
  Catalog c;
  std::uint32_t oid = 100;

  std::uint32_t rel(std::string schema, std::string name, std::vector<std::string> cols,
                    char kind = 'r', std::uint32_t root = 0, std::vector<Trigger> triggers = {},
                    std::vector<Rule> rules = {}, std::string viewdef = {}) {
    Relation r;
    r.oid = ++oid;
    r.schema = std::move(schema);
    r.name = std::move(name);
    r.columns = std::move(cols);
    r.kind = kind;
    r.root = root;
    r.triggers = std::move(triggers);
    r.rules = std::move(rules);
    r.viewdef = std::move(viewdef);
    c.addRelation(r);
    return r.oid;
  }

  // A PL/pgSQL trigger function `schema.name()` with `body` between BEGIN and END.
  std::uint32_t fn(const std::string& schema, const std::string& name, const std::string& body,
                   std::optional<std::string> search_path = std::nullopt) {
    Function f;
    f.search_path = std::move(search_path);
    f.oid = ++oid;
    f.schema = schema;
    f.name = name;
    f.language = "plpgsql";
    f.identity = schema + "." + name + "()";
    f.body =
        "CREATE FUNCTION x() RETURNS trigger LANGUAGE plpgsql AS $f$\nBEGIN\n" + body + "\nEND $f$";
    c.addFunction(f);
    return f.oid;
  }
};

Trigger trig(std::string name, std::uint32_t function, unsigned events,
             std::vector<std::string> columns = {}, bool instead = false) {
  Trigger t;
  t.name = std::move(name);
  t.function = function;
  t.events = events;
  t.columns = std::move(columns);
  t.instead = instead;
  return t;
}

Catalog shop() {
  Builder b;
  std::uint32_t take = b.fn("orders", "take_stock",
                            "UPDATE inventory.stock SET on_hand = on_hand - NEW.qty\n"
                            "  WHERE item_id = NEW.item_id;\nRETURN NEW;");
  std::uint32_t audit = b.fn("orders", "audit_status",
                             "IF TG_OP = 'UPDATE' AND OLD.status IS DISTINCT FROM NEW.status "
                             "THEN\n  INSERT INTO audit.log (tab, old, new)\n"
                             "  VALUES (TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME, OLD.status, "
                             "NEW.status);\nEND IF;\nRETURN NULL;");
  std::uint32_t reorder = b.fn("inventory", "reorder",
                               "IF NEW.on_hand < 5 THEN\n"
                               "  INSERT INTO purchasing.requests (item_id) VALUES (NEW.item_id);\n"
                               "END IF;\nRETURN NEW;");
  std::uint32_t receive = b.fn("purchasing", "receive",
                               "UPDATE inventory.stock SET on_hand = on_hand + 10\n"
                               "  WHERE item_id = NEW.item_id;\nRETURN NULL;");
  std::uint32_t fanout =
      b.fn("public", "fanout", "INSERT INTO audit.log (tab) VALUES (TG_TABLE_NAME);\nRETURN NULL;");
  std::uint32_t local = b.fn("public", "local_note",
                             "PERFORM 1 FROM inventory.stock WHERE item_id = NEW.id;\nRETURN NEW;");
  // Its own search_path finds the unqualified table (the caller's is public).
  std::uint32_t hostile = b.fn("Lager Ü", "Ünï \"fn\"",
                               "UPDATE \"Stock \"\"Items\"\"\" SET \"Qty€\" = 0\n"
                               "  WHERE \"Id\" = NEW.\"Id\";\nRETURN NEW;",
                               "\"Lager Ü\", public");
  std::uint32_t via_view = b.fn("orders", "enter_order",
                                "INSERT INTO orders.orders (id, item_id, qty) VALUES (NEW.id, "
                                "NEW.item_id, NEW.qty);\nRETURN NEW;");
  // System trigger functions are not in the catalog's user functions.
  const std::uint32_t system_function = 1219;

  b.rel("orders", "orders", {"id", "item_id", "qty", "status"}, 'r', 0,
        {trig("take_stock", take, kInsert), trig("audit_status", audit, kUpdate, {"status"}),
         trig("suppress", system_function, kUpdate)},
        {Rule{7001, "keep_deleted", kDelete, false,
              "CREATE RULE keep_deleted AS\n    ON DELETE TO orders.orders DO  INSERT INTO "
              "audit.log (tab, old)\n  VALUES ('orders'::text, old.status);"}});
  b.rel("inventory", "stock", {"item_id", "on_hand"}, 'r', 0, {trig("reorder", reorder, kUpdate)});
  b.rel("purchasing", "requests", {"item_id"}, 'r', 0, {trig("receive", receive, kInsert)});
  b.rel("audit", "log", {"tab", "old", "new"});
  std::uint32_t events = b.rel("public", "events", {"id", "at"}, 'p', 0,
                               {trig("fanout", fanout, kInsert | kUpdate | kDelete)});
  b.rel("public", "events_2026", {"id", "at"}, 'r', events, {trig("local", local, kInsert)});
  b.rel("public", "events_2027", {"id", "at"}, 'r', events);
  b.rel("Lager Ü", "Stock \"Items\"", {"Id", "Qty€"});
  b.rel("Kasse Ü", "Bon \"Zeilen\"", {"Id"}, 'r', 0, {trig("Nimm \"Lager\" ü", hostile, kInsert)});
  b.rel("orders", "entry", {"id", "item_id", "qty"}, 'v', 0,
        {trig("enter", via_view, kInsert, {}, true)}, {},
        " SELECT o.id, o.item_id, o.qty FROM (orders.orders o JOIN inventory.stock s ON "
        "((s.item_id = o.item_id)));");
  b.rel("orders", "quantities", {"id", "qty"}, 'v', 0, {},
        {Rule{7002, "set_qty", kUpdate, true,
              "CREATE RULE set_qty AS\n    ON UPDATE TO orders.quantities DO INSTEAD  UPDATE "
              "orders.orders SET qty = new.qty\n  WHERE (orders.id = old.id);"}},
        " SELECT o.id, sum(o.qty) AS qty FROM orders.orders o GROUP BY o.id;");
  return std::move(b.c);
}

using Triple = std::tuple<std::string, std::string, std::string>;  // table, kind, via

std::set<Triple> triples(const ShapeAnalysis& a) {
  std::set<Triple> out;
  for (const auto& x : a.accesses) out.insert({x.table, x.write ? "write" : "read", x.via});
  return out;
}

ShapeAnalysis run(const std::string& sql) {
  static Catalog catalog = shop();
  Analyzer an(catalog);
  auto p = pgq::parse(sql);
  REQUIRE(p.ok());
  return an.analyze(p.tree, {"public"});
}

const std::string kTake = "trigger take_stock on orders.orders";

}  // namespace

TEST_CASE("an insert brings what its insert trigger touches, under the trigger's name",
          "[catalogue][triggers]") {
  auto a = run("INSERT INTO orders.orders (id, item_id, qty) VALUES (1, 2, 3)");
  CHECK(triples(a) == std::set<Triple>{{"orders.orders", "write", ""},
                                       {"inventory.stock", "write", kTake},
                                       {"inventory.stock", "read", kTake},
                                       // the stock update fires reorder, which inserts a
                                       // request, whose trigger updates stock again (stops)
                                       {"purchasing.requests", "write", kTake}});
  CHECK(a.problems.empty());  // NEW.qty, NEW.item_id are no tables
  for (const auto& x : a.accesses) {
    if (x.table == "inventory.stock" && x.write) {
      CHECK(x.columns == std::set<std::string>{"on_hand"});
    }
  }
}

TEST_CASE("an update fires update triggers only, and UPDATE OF only for its columns",
          "[catalogue][triggers]") {
  // take_stock is an INSERT trigger; audit_status fires for SET status only.
  CHECK(triples(run("UPDATE orders.orders SET qty = 1 WHERE id = 1")) ==
        std::set<Triple>{{"orders.orders", "write", ""}, {"orders.orders", "read", ""}});
  auto s = run("UPDATE orders.orders SET status = 'paid' WHERE id = 1");
  CHECK(triples(s) ==
        std::set<Triple>{{"orders.orders", "write", ""},
                         {"orders.orders", "read", ""},
                         {"audit.log", "write", "trigger audit_status on orders.orders"}});
  CHECK(s.problems.empty());  // TG_OP, TG_TABLE_NAME, OLD.status, NEW.status
  // SELECT ... FOR UPDATE locks rows: no trigger fires.
  CHECK(triples(run("SELECT id FROM orders.orders FOR UPDATE")) ==
        std::set<Triple>{{"orders.orders", "read", ""}, {"orders.orders", "write", ""}});
}

TEST_CASE("upserts and MERGE fire insert and update triggers, delete fires rules",
          "[catalogue][triggers]") {
  auto u =
      run("INSERT INTO orders.orders (id, status) VALUES (1, 'new') "
          "ON CONFLICT (id) DO UPDATE SET status = excluded.status");
  auto t = triples(u);
  CHECK(t.count({"inventory.stock", "write", kTake}));
  CHECK(t.count({"audit.log", "write", "trigger audit_status on orders.orders"}));
  auto nothing = triples(run("INSERT INTO orders.orders (id) VALUES (1) ON CONFLICT DO NOTHING"));
  CHECK(nothing.count({"inventory.stock", "write", kTake}));
  CHECK(!nothing.count({"audit.log", "write", "trigger audit_status on orders.orders"}));
  auto m =
      triples(run("MERGE INTO orders.orders o USING inventory.stock s ON o.item_id = s.item_id "
                  "WHEN MATCHED THEN UPDATE SET status = 'x'"));
  CHECK(m.count({"audit.log", "write", "trigger audit_status on orders.orders"}));
  CHECK(!m.count({"inventory.stock", "write", kTake}));
  auto d = run("DELETE FROM orders.orders WHERE id = 1");
  CHECK(triples(d) ==
        std::set<Triple>{{"orders.orders", "write", ""},
                         {"orders.orders", "read", ""},
                         {"audit.log", "write", "rule keep_deleted on orders.orders"}});
  CHECK(d.problems.empty());  // old.status in the rule's action
  CHECK(triples(run("COPY orders.orders (id, qty) FROM STDIN"))
            .count({"inventory.stock", "write", kTake}));
  CHECK(triples(run("TRUNCATE orders.orders")) == std::set<Triple>{{"orders.orders", "write", ""}});
}

TEST_CASE("trigger chains are followed and recursive ones terminate", "[catalogue][triggers]") {
  // stock -> reorder -> requests -> receive -> stock -> reorder (already in progress)
  auto a = run("UPDATE inventory.stock SET on_hand = 0");
  const std::string reorder = "trigger reorder on inventory.stock";
  CHECK(triples(a) == std::set<Triple>{{"inventory.stock", "write", ""},
                                       {"purchasing.requests", "write", reorder},
                                       {"inventory.stock", "write", reorder},
                                       {"inventory.stock", "read", reorder}});
  CHECK(a.problems.empty());
}

TEST_CASE("a partitioned root's trigger counts once, partitions' own ones too",
          "[catalogue][triggers]") {
  auto root = run("INSERT INTO events (id, at) VALUES (1, now())");
  CHECK(triples(root) ==
        std::set<Triple>{{"public.events", "write", ""},
                         {"audit.log", "write", "trigger fanout on public.events"},
                         // the row may land in events_2026, whose own trigger fires then
                         {"inventory.stock", "read", "trigger local on public.events_2026"}});
  size_t fanouts = 0;
  for (const auto& x : root.accesses) fanouts += x.via == "trigger fanout on public.events";
  CHECK(fanouts == 1);
  CHECK(triples(run("INSERT INTO events_2027 (id, at) VALUES (1, now())")) ==
        std::set<Triple>{{"public.events", "write", ""},
                         {"audit.log", "write", "trigger fanout on public.events"}});
  CHECK(triples(run("DELETE FROM events_2026")) ==
        std::set<Triple>{{"public.events", "write", ""},
                         {"audit.log", "write", "trigger fanout on public.events"}});
}

TEST_CASE("hostile names are followed exactly, with the function's search_path",
          "[catalogue][triggers]") {
  auto a = run(R"(INSERT INTO "Kasse Ü"."Bon ""Zeilen""" ("Id") VALUES (1))");
  const std::string via = "trigger Nimm \"Lager\" ü on Kasse Ü.Bon \"Zeilen\"";
  CHECK(triples(a) == std::set<Triple>{{"Kasse Ü.Bon \"Zeilen\"", "write", ""},
                                       {"Lager Ü.Stock \"Items\"", "write", via},
                                       {"Lager Ü.Stock \"Items\"", "read", via}});
  CHECK(a.problems.empty());
}

TEST_CASE("an INSTEAD OF trigger or a DO INSTEAD rule replaces the write through a view",
          "[catalogue][triggers]") {
  auto a = run("INSERT INTO orders.entry (id, item_id, qty) VALUES (1, 2, 3)");
  const std::string via = "trigger enter on orders.entry";
  // The trigger's insert fires take_stock in turn; the outermost name is kept.
  CHECK(triples(a) == std::set<Triple>{{"orders.orders", "write", via},
                                       {"inventory.stock", "write", via},
                                       {"inventory.stock", "read", via},
                                       {"purchasing.requests", "write", via}});
  CHECK(a.problems.empty());
  // A DO INSTEAD rule replaces it too (its SET qty fires no UPDATE OF status trigger).
  auto r = run("UPDATE orders.quantities SET qty = 4 WHERE id = 1");
  CHECK(triples(r) ==
        std::set<Triple>{{"orders.orders", "write", "rule set_qty on orders.quantities"},
                         {"orders.orders", "read", "rule set_qty on orders.quantities"}});
  CHECK(r.problems.empty());
  // No INSTEAD OF UPDATE trigger and a join view: still a problem.
  auto u = run("UPDATE orders.entry SET qty = 1");
  REQUIRE(u.problems.size() == 1);
  CHECK(u.problems[0].find("INSTEAD OF trigger") != std::string::npos);
}

TEST_CASE("dbsplit's own outbox triggers are recognised by trigger and function name",
          "[catalogue][triggers]") {
  using dbsplit::steps::outbox::kRowTrigger;
  using dbsplit::steps::outbox::kTruncateTrigger;
  CHECK(isOutboxTrigger(kRowTrigger, "outbox_orders_1a2b3c4d"));
  CHECK(isOutboxTrigger(kTruncateTrigger, "outbox_orders_1a2b3c4d"));
  CHECK_FALSE(isOutboxTrigger(kRowTrigger, "my_own_function"));
  CHECK_FALSE(isOutboxTrigger("audit", "outbox_orders_1a2b3c4d"));
}
