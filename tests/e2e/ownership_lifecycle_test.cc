// The ownership step through the real binary: the lifecycle harness
// (support/lifecycle.h: dry-run, rehearse, apply, rollback with byte-identical
// pg_dump and ACLs, a fault at every action boundary), and what the applied
// step enforces: non-owners cannot write, reads stay, the owner's roles write.
#include <sqlite3.h>

#include <algorithm>

#include "catch2/catch.hpp"
#include "nlohmann/json.hpp"
#include "sql/quote.h"
#include "support/lifecycle.h"
#include "support/ownership_fixture.h"
#include "support/scenario.h"

using namespace dbsplit::test;

namespace {

// SQLSTATE of `sql` run as `role`, "" when it succeeds.
std::string sqlstateAs(const TestDb& db, const std::string& role, const std::string& sql) {
  auto c = connect(db.superDsn());
  c->exec("SET ROLE " + dbsplit::sql::quoteIdent(role));
  try {
    c->exec(sql);
  } catch (const dbsplit::Error& e) {
    return e.sqlstate().empty() ? "?" : e.sqlstate();
  }
  return "";
}

// The fixture's identifiers are hostile already (quotes, spaces, mixed case,
// non-ASCII, a hostile role name). `memberships`: the actions a managed admin
// adds to join the roles it acts as.
Lifecycle<OwnershipScenario> ownershipLifecycle(size_t memberships) {
  Lifecycle<OwnershipScenario> c;
  c.step = "ownership";
  c.build = [] {
    auto s = std::make_unique<OwnershipScenario>();
    s->runCatalogue();
    return s;
  };
  c.state = [](OwnershipScenario& s) { return s.aclState(); };
  c.status_tells_committed = true;  // transactional actions in one database
  auto noGroupRole = [](OwnershipScenario& s) {
    CHECK(s.db().scalar("SELECT count(*) FROM pg_roles WHERE rolname = '" + s.owner() + "'") ==
          "0");
  };
  c.actions = [memberships](OwnershipScenario&, const std::vector<std::string>& ids) {
    REQUIRE(ids.size() == 13 + memberships);  // with the view public.order_totals
  };
  c.dry_run = [noGroupRole](OwnershipScenario& s, const CliResult& r) {
    CHECK(r.out.find("ALTER TABLE \"Sales Dept\".\"Order \"\"Items\"\"\"\n  OWNER TO") !=
          std::string::npos);
    CHECK(r.out.find("CREATE ROLE \"" + s.owner() + "\"\n  NOLOGIN;") != std::string::npos);
    noGroupRole(s);
  };
  c.rehearse = [noGroupRole, memberships](OwnershipScenario& s, const CliResult& r) {
    // Each action's locks are reported.
    bool saw_exclusive = false;
    int rehearsed = 0;
    for (const auto& ev : eventsOf(jsonLines(r.out), "rehearsal")) {
      ++rehearsed;
      if (ev["action"] != "ownership/table/public.orders") continue;
      for (const auto& l : ev["locks"]) {
        if (l.get<std::string>() == "AccessExclusiveLock on public.orders") saw_exclusive = true;
      }
    }
    // 2 x (role, members, schema) + 5 tables + 1 partition + 1 view
    CHECK(rehearsed == 13 + static_cast<int>(memberships));
    CHECK(saw_exclusive);
    noGroupRole(s);
  };
  c.applied = [](OwnershipScenario& s) {
    TestDb& db = s.db();
    const std::string g = s.owner();
    auto ownerOf = [&](const std::string& rel) {
      return db.scalar("SELECT relowner::regrole::text FROM pg_class WHERE oid = '" + rel +
                       "'::regclass");
    };
    // Tables, partitions, and the sequences owned by their columns.
    for (const char* rel :
         {"public.orders", "public.order_items", "public.events", "public.events_2026",
          "public.orders_id_seq", "public.order_items_id_seq"}) {
      CHECK(ownerOf(rel) == g);
    }
    CHECK(db.scalar("SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = '" + g +
                    "'") == g);
    CHECK(db.scalar("SELECT pg_has_role('" + s.role("orders_app") + "', '" + g + "', 'MEMBER')") ==
          "t");
    CHECK(db.scalar("SELECT obj_description('public.orders'::regclass)") ==
          "the orders\n\nowned by service " + g + " (dbsplit)");
    // Writes gone from PUBLIC and other roles; reads and the owner's roles stay.
    CHECK(db.scalar("SELECT has_table_privilege('public', 'public.orders', 'INSERT')") == "f");
    CHECK(db.scalar("SELECT has_table_privilege('public', 'public.orders', 'SELECT')") == "t");
    CHECK(db.scalar("SELECT has_column_privilege('" + s.role("ful_app") +
                    "', 'public.orders', 'status', 'UPDATE')") == "f");
    CHECK(db.scalar("SELECT has_column_privilege('" + s.role("ful_app") +
                    "', 'public.orders', 'total', 'SELECT')") == "t");
    CHECK(db.scalar("SELECT relacl::text LIKE '%" + s.role("orders_app") +
                    "=aw/%' FROM pg_class WHERE oid = 'public.orders'::regclass") == "t");
    // The NULL ACL stays NULL; only the column privilege goes.
    CHECK(db.scalar("SELECT relacl IS NULL FROM pg_class WHERE relname = 'Tëst ünïcode'") == "t");
    CHECK(db.scalar("SELECT attacl::text FROM pg_attribute WHERE attrelid = "
                    "'public.\"Tëst ünïcode\"'::regclass AND attname = 'note'") == "");
    // The old owner from outside the service keeps reading.
    CHECK(db.scalar("SELECT has_table_privilege('" + s.role("legacy") +
                    "', '\"Sales Dept\".\"Order \"\"Items\"\"\"', 'SELECT')") == "t");
  };
  c.rolled_back = [](OwnershipScenario& s, const CliResult&) {
    CHECK(s.db().scalar("SELECT count(*) FROM pg_roles WHERE rolname IN ('" + s.owner() + "', '" +
                        s.consumer() + "')") == "0");
  };
  // Faults while undoing a table and the group role, then resume finishes the
  // rollback exactly.
  c.rollback_fault = [](OwnershipScenario& s, const std::string& fault) {
    return fault == "ownership/table/public.orders:before" ||
           fault == "ownership/role/" + s.owner() + ":before";
  };
  return c;
}

}  // namespace

TEST_CASE(
    "ownership through dry-run, rehearse, apply, rollback and a fault at every action "
    "boundary restores owners, ACLs, column ACLs and comments exactly",
    "[ownership][pg][slow]") {
  runLifecycle(ownershipLifecycle(0));
}

TEST_CASE(
    "ownership as a managed admin (no superuser) joins the roles it acts as by actions, and "
    "rollback gives owners, ACLs and memberships back, also after a fault at every boundary",
    "[ownership][pg][slow][managed]") {
  useAdmin(Admin::kManaged);
  // Two group roles, the owner of order_items (orders_app), of "Order Items"
  // (legacy), and the non-owner grantor on orders.
  Lifecycle<OwnershipScenario> c = ownershipLifecycle(5);
  c.recovery = Recovery::kAlternate;  // both ways out of a crash, in half the time
  auto applied = c.applied;
  c.applied = [applied](OwnershipScenario& s) {
    applied(s);
    TestDb& db = s.db();
    CHECK(db.scalar("SELECT rolsuper FROM pg_roles WHERE rolname = current_user") == "f");
    CHECK(db.scalar("SELECT pg_has_role('" + db.adminRole() + "', '" + s.role("legacy") +
                    "', 'MEMBER')") == "t");
  };
  auto rolled_back = c.rolled_back;
  c.rolled_back = [rolled_back](OwnershipScenario& s, const CliResult& r) {
    rolled_back(s, r);
    TestDb& db = s.db();
    CHECK(db.scalar("SELECT count(*) FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member "
                    "WHERE r.rolname = '" +
                    db.adminRole() + "'") == "1");  // pg_read_all_stats
  };
  runLifecycle(c);
}

TEST_CASE(
    "after ownership a non-owner's INSERT fails with 42501, its SELECT works, and the "
    "owner's role writes",
    "[ownership][pg]") {
  OwnershipScenario s;
  TestDb& db = s.db();
  s.runCatalogue();
  const std::string ful = s.role("ful_app");
  const std::string orders = s.role("orders_app");
  const std::string reporter = s.role("reporter");
  // Before: the consumer and PUBLIC may write.
  CHECK(sqlstateAs(db, ful, "INSERT INTO public.events VALUES (1, '2026-05-01')") == "");
  CliResult run = s.cli({"run", "ownership"});
  INFO(run.out << run.err);
  REQUIRE(run.exit_code == 0);
  INFO(db.scalar("SELECT relacl::text FROM pg_class WHERE oid = 'public.orders'::regclass"));

  CHECK(sqlstateAs(db, ful, "INSERT INTO public.orders (status) VALUES ('x')") == "42501");
  CHECK(sqlstateAs(db, ful, "UPDATE public.orders SET status = 'y'") == "42501");
  CHECK(sqlstateAs(db, ful, "INSERT INTO public.events VALUES (2, '2026-05-01')") == "42501");
  CHECK(sqlstateAs(db, ful, "INSERT INTO public.events_2026 VALUES (2, '2026-05-01')") == "42501");
  CHECK(sqlstateAs(db, ful, "TRUNCATE public.order_items") == "42501");
  CHECK(sqlstateAs(db, reporter, "INSERT INTO public.orders (status) VALUES ('x')") == "42501");
  CHECK(sqlstateAs(db, ful, "SELECT count(*) FROM public.orders") == "");
  CHECK(sqlstateAs(db, ful, "SELECT count(*) FROM public.events") == "");
  CHECK(sqlstateAs(db, reporter, "SELECT count(*) FROM public.order_items") == "");

  CHECK(sqlstateAs(db, orders, "INSERT INTO public.orders (status) VALUES ('new')") == "");
  CHECK(sqlstateAs(db, orders, "INSERT INTO public.order_items (order_id, qty) VALUES (1, 2)") ==
        "");
  CHECK(sqlstateAs(db, orders, "INSERT INTO public.events VALUES (3, '2026-06-01')") == "");
  CHECK(sqlstateAs(db, orders, "DELETE FROM \"Sales Dept\".\"Order \"\"Items\"\"\"") == "");
  CHECK(db.scalar("SELECT count(*) FROM public.orders") == "1");
}

namespace {

std::string waiverEntry(const std::string& service, const std::string& table,
                        const std::string& reason, const std::string& columns = {}) {
  return "[[waiver]]\nservice = \"" + service + "\"\ntable = \"" + table + "\"\nreason = \"" +
         reason + "\"\n" + (columns.empty() ? "" : "columns = " + columns + "\n");
}

// A catalogue snapshot in which the consumer's role updated one column of
// public.orders.
std::string statusWriteBack(const OwnershipScenario& s) {
  auto access = [&](const char* kind, const char* statement) {
    return nlohmann::json{{"service", s.consumer()},  {"role", s.role("ful_app")},
                          {"table", "public.orders"}, {"kind", kind},
                          {"columns", {"status"}},    {"calls", 12},
                          {"via", nullptr},           {"fingerprint", "f00dfeed"},
                          {"statement", statement}};
  };
  return nlohmann::json{
      {"accesses", {access("write", "UPDATE public.orders SET status = $1 WHERE id = $2")}},
      {"unresolved", nlohmann::json::array()}}
      .dump();
}

}  // namespace

TEST_CASE(
    "a waiver gives back only the column the catalogue saw written: UPDATE of another column "
    "and INSERT and DELETE are refused while rollback is exact and changing the waiver is drift",
    "[ownership][pg]") {
  OwnershipScenario s;
  const std::string status_write_back = "status write-back until ShipmentDispatched is consumed";
  s.writePlan(ownershipTables(), waiverEntry(s.consumer(), "public.orders", status_write_back));
  TestDb& db = s.db();
  const std::string original = db.schemaDump();
  const std::string acls = s.aclState();
  const std::string ful = s.role("ful_app");
  s.runCatalogue();
  s.addSnapshot(statusWriteBack(s));
  // Before: the fixture lets ful_app write the whole table.
  REQUIRE(sqlstateAs(db, ful, "UPDATE public.orders SET total = 1 WHERE false") == "");
  REQUIRE(sqlstateAs(db, ful, "DELETE FROM public.orders WHERE false") == "");

  CliResult run = s.cli({"run", "ownership"});
  INFO(run.out << run.err);
  REQUIRE(run.exit_code == 0);
  INFO(db.scalar("SELECT relacl::text FROM pg_class WHERE oid = 'public.orders'::regclass"));
  CHECK(sqlstateAs(db, ful, "UPDATE public.orders SET status = 'shipped'") == "");
  CHECK(sqlstateAs(db, ful, "UPDATE public.orders SET total = 0") == "42501");
  CHECK(sqlstateAs(db, ful, "INSERT INTO public.orders (status) VALUES ('w')") == "42501");
  CHECK(sqlstateAs(db, ful, "DELETE FROM public.orders WHERE status = 'w'") == "42501");
  CHECK(sqlstateAs(db, ful, "TRUNCATE public.orders") == "42501");
  CHECK(db.scalar("SELECT has_column_privilege('" + ful +
                  "', 'public.orders', 'status', "
                  "'UPDATE')::text || has_table_privilege('" +
                  ful +
                  "', 'public.orders', "
                  "'UPDATE')::text") == "truefalse");
  // Everything else is as without the waiver.
  CHECK(sqlstateAs(db, ful, "INSERT INTO public.events VALUES (2, '2026-05-01')") == "42501");
  CHECK(sqlstateAs(db, ful, "TRUNCATE public.order_items") == "42501");
  CHECK(sqlstateAs(db, ful, "DELETE FROM \"Sales Dept\".\"Order \"\"Items\"\"\"") == "42501");
  CHECK(sqlstateAs(db, s.role("reporter"), "UPDATE public.orders SET status = 'x'") == "42501");
  CHECK(db.scalar("SELECT has_table_privilege('public', 'public.orders', 'INSERT')") == "f");

  // The reason is no input; the waived table and its columns are.
  s.writePlan(ownershipTables(), waiverEntry(s.consumer(), "public.orders", "reworded"));
  CHECK(s.cli({"status"}).exit_code == 0);
  s.writePlan(ownershipTables(),
              waiverEntry(s.consumer(), "public.orders", status_write_back, "[\"total\"]"));
  CliResult narrowed = s.cli({"status"});
  INFO(narrowed.out << narrowed.err);
  CHECK(narrowed.exit_code == 6);
  CHECK(narrowed.out.find("step ownership was applied from a different plan") != std::string::npos);
  s.writePlan(ownershipTables(),
              waiverEntry(s.consumer(), "public.order_items", status_write_back));
  CHECK(s.cli({"status"}).exit_code == 6);
  s.writePlan(ownershipTables());
  CHECK(s.cli({"status"}).exit_code == 6);

  s.writePlan(ownershipTables(), waiverEntry(s.consumer(), "public.orders", status_write_back));
  CliResult rb = s.cli({"rollback", "ownership"});
  INFO(rb.out << rb.err);
  REQUIRE(rb.exit_code == 0);
  CHECK(s.aclState() == acls);
  CHECK(db.schemaDump() == original);
}

TEST_CASE(
    "a waiver's own column list replaces the columns seen and a column the table lacks stops "
    "the step",
    "[ownership][pg]") {
  OwnershipScenario s;
  TestDb& db = s.db();
  const std::string ful = s.role("ful_app");
  s.writePlan(ownershipTables(),
              waiverEntry(s.consumer(), "public.orders", "back-office fixes", "[\"Total\"]"));
  s.runCatalogue();
  s.addSnapshot(statusWriteBack(s));
  const std::string original = db.schemaDump();
  CliResult bad = s.cli({"run", "ownership"});
  INFO(bad.out << bad.err);
  CHECK(bad.exit_code == 3);
  CHECK((bad.out + bad.err).find("public.orders has no column Total") != std::string::npos);
  CHECK(db.schemaDump() == original);

  s.writePlan(ownershipTables(),
              waiverEntry(s.consumer(), "public.orders", "back-office fixes", "[\"total\"]"));
  CliResult run = s.cli({"run", "ownership"});
  INFO(run.out << run.err);
  REQUIRE(run.exit_code == 0);
  CHECK(sqlstateAs(db, ful, "UPDATE public.orders SET total = 0") == "");
  CHECK(sqlstateAs(db, ful, "UPDATE public.orders SET status = 'x'") == "42501");
  REQUIRE(s.cli({"rollback", "ownership"}).exit_code == 0);
  CHECK(db.schemaDump() == original);
}

namespace {

// "file:line" of the `[[kind]]` header of the entry whose text starts with
// `entry` in the plan file.
std::string entryAt(const OwnershipScenario& s, const std::string& entry) {
  std::string text = readFile(s.planPath());
  size_t at = text.find(entry);
  REQUIRE(at != std::string::npos);
  return s.planPath() + ":" + std::to_string(1 + std::count(text.begin(), text.begin() + at, '\n'));
}

}  // namespace

TEST_CASE(
    "drift names each plan entry added, removed or changed since the step ran, with file:line, "
    "in status, run and check",
    "[ownership][pg]") {
  OwnershipScenario s;
  const std::string status_write_back = "status write-back until shipped events are consumed";
  s.writePlan(ownershipTables(), waiverEntry(s.consumer(), "public.orders", status_write_back));
  s.runCatalogue();
  s.addSnapshot(statusWriteBack(s));
  CliResult run = s.cli({"run", "ownership"});
  INFO(run.out << run.err);
  REQUIRE(run.exit_code == 0);

  // The waiver removed, public.events given to the consumer, a service added.
  std::vector<std::string> tables = ownershipTables();
  tables.pop_back();
  REQUIRE(tables.size() == 4);
  const std::string extra = s.owner() + "_extra";
  s.writePlan(tables, "[[table]]\nname = \"public.events\"\nowner = \"" + s.consumer() +
                          "\"\n\n[[service]]\nname = \"" + extra + "\"\nroles = [" +
                          nlohmann::json(s.role("reporter")).dump() + "]\n");
  const std::string table_line = "changed [[table]] public.events at " +
                                 entryAt(s, "[[table]]\nname = \"public.events\"") + " (owner \"" +
                                 s.owner() + "\" -> \"" + s.consumer() + "\")";
  const std::string service_line =
      "added [[service]] " + extra + " at " + entryAt(s, "[[service]]\nname = \"" + extra);
  const std::string waiver_line = "removed [[waiver]] " + s.consumer() + " on public.orders";
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"status"}, {"run", "ownership"}, {"check"}}) {
    CliResult r = s.cli(args);
    INFO(args.front() << "\n" << r.out << r.err);
    CHECK(r.exit_code == 6);
    const std::string all = r.out + r.err;
    CHECK(all.find("step ownership was applied from a different plan") != std::string::npos);
    CHECK(all.find("3 plan entries changed since") != std::string::npos);
    CHECK(all.find(table_line) != std::string::npos);
    CHECK(all.find(service_line) != std::string::npos);
    CHECK(all.find(waiver_line) != std::string::npos);
  }
  CliResult json = s.cli({"status", "--json"});
  INFO(json.out);
  CHECK(json.exit_code == 6);
  CHECK(json.out.find(R"("plan_changes":[)") != std::string::npos);
  CHECK(json.out.find(R"("change":"removed","entry":"[[waiver]] )" + s.consumer() +
                      " on public.orders\"") != std::string::npos);

  // A journal written before the inputs were kept names only the hashes.
  {
    sqlite3* raw = nullptr;
    REQUIRE(sqlite3_open_v2(s.journalPath().c_str(), &raw, SQLITE_OPEN_READWRITE, nullptr) ==
            SQLITE_OK);
    CHECK(sqlite3_exec(raw, "UPDATE steps SET inputs = ''", nullptr, nullptr, nullptr) ==
          SQLITE_OK);
    sqlite3_close_v2(raw);
  }
  CliResult old = s.cli({"status"});
  INFO(old.out << old.err);
  CHECK(old.exit_code == 6);
  CHECK(old.out.find("step ownership was applied from a different plan (journal ") !=
        std::string::npos);
  CHECK(old.out.find("[[waiver]]") == std::string::npos);

  s.writePlan(ownershipTables(), waiverEntry(s.consumer(), "public.orders", status_write_back));
  CHECK(s.cli({"status"}).exit_code == 0);
  CliResult rb = s.cli({"rollback", "ownership"});
  INFO(rb.out << rb.err);
  CHECK(rb.exit_code == 0);
}
