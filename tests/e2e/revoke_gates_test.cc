// The revoke step's gates, each blocking on its own with exit 3 (or 5 for the
// missing confirmation) while nothing changes; observe mode; bad input; and a
// plan where nobody reads another's tables applying with zero actions. The
// `compare` and `relay_start` records are written with the Journal API, as
// stand-ins for the projections/compare commands that are not in this tree.
#include "catch2/catch.hpp"
#include "support/outbox_fixture.h"
#include "support/revoke_fixture.h"
#include "support/scenario.h"

using namespace dbsplit::test;

namespace {

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("revoke: a dirty or stale compare blocks with exit 3 and changes nothing",
          "[revoke][pg]") {
  RevokeScenario r("deprecation_window = \"1s\"", kOrderViewProjection);
  r.advanceToRevoke();
  r.waitWindow();
  const std::string before = r.db().schemaDump();

  CliResult none = r.cli({"run", "revoke", "--yes", "--json"});
  CHECK(none.exit_code == 3);
  CHECK(has(gatesOf(none)["compare_clean"].second, "no compare result"));

  r.addRelayStart();
  r.addCompare(false);
  CliResult dirty = r.cli({"run", "revoke", "--yes", "--json"});
  INFO(dirty.out << dirty.err);
  CHECK(dirty.exit_code == 3);
  auto g = gatesOf(dirty);
  CHECK_FALSE(g["compare_clean"].first);
  CHECK(has(g["compare_clean"].second, "1 missing"));
  CHECK(g["deprecation_window"].first);  // the others are evaluated and pass
  CHECK(g["memberships"].first);
  CHECK(r.db().schemaDump() == before);

  r.addCompare(true);
  r.addRelayStart();  // the relay restarted after the clean compare
  CliResult stale = r.cli({"run", "revoke", "--yes", "--json"});
  CHECK(stale.exit_code == 3);
  CHECK(has(gatesOf(stale)["compare_clean"].second, "older than the relay's restart"));
  CHECK(r.db().schemaDump() == before);

  r.addCompare(true);
  CliResult ok = r.cli({"run", "revoke", "--yes", "--json"});
  INFO(ok.out << ok.err);
  CHECK(ok.exit_code == 0);
  CHECK(gatesOf(ok)["compare_clean"].first);
}

TEST_CASE("revoke: a direct read inside the deprecation window blocks with exit 3",
          "[revoke][pg]") {
  RevokeScenario r("deprecation_window = \"1s\"\nrequire_compare = false");
  r.advanceToRevoke();
  r.waitWindow();
  const std::string before = r.db().schemaDump();
  r.setConsumerSql("SELECT status FROM public.orders WHERE id = 1;\n");
  CliResult run = r.cli({"run", "revoke", "--yes", "--json"});
  INFO(run.out << run.err);
  CHECK(run.exit_code == 3);
  auto g = gatesOf(run);
  CHECK(g["compare_clean"].first);
  CHECK_FALSE(g["deprecation_window"].first);
  const std::string& ev = g["deprecation_window"].second;
  CHECK(has(ev, r.consumer() + " reads public.orders of " + r.owner()));
  CHECK(has(ev, "fingerprint "));
  CHECK(has(ev, "1 call(s) in the window"));
  CHECK(has(ev, "last seen after "));
  CHECK(r.db().schemaDump() == before);
}

TEST_CASE("revoke: a consumer role's read seen by pg_stat_statements inside the window blocks",
          "[revoke][pg]") {
  RevokeScenario r("deprecation_window = \"1s\"\nrequire_compare = false", {}, true);
  r.advanceToRevoke();
  r.waitWindow();
  const std::string before = r.db().schemaDump();
  REQUIRE(
      r.sqlstateAs(r.role("ful_app"), "SELECT status FROM public.orders WHERE id = 42").empty());
  CliResult run = r.cli({"run", "revoke", "--yes", "--json"});
  INFO(run.out << run.err);
  CHECK(run.exit_code == 3);
  auto g = gatesOf(run);
  CHECK_FALSE(g["deprecation_window"].first);
  const std::string& ev = g["deprecation_window"].second;
  CHECK(has(ev, r.consumer() + " (" + r.role("ful_app") + ") reads public.orders of " + r.owner()));
  CHECK(has(ev, "SELECT status FROM public.orders WHERE id = $1"));
  CHECK(r.db().schemaDump() == before);
}

TEST_CASE("revoke: a catalogue younger than the window says how long is left (exit 3)",
          "[revoke][pg]") {
  RevokeScenario r("deprecation_window = \"7d\"");
  r.advanceToRevoke();
  const std::string before = r.db().schemaDump();
  CliResult run = r.cli({"run", "revoke", "--yes", "--json"});
  INFO(run.out << run.err);
  CHECK(run.exit_code == 3);
  auto g = gatesOf(run);
  CHECK_FALSE(g["deprecation_window"].first);
  CHECK(has(g["deprecation_window"].second, "deprecation_window = \"7d\" but the oldest"));
  CHECK(has(g["deprecation_window"].second, "left; run the step after "));
  CHECK(r.db().schemaDump() == before);
}

TEST_CASE("revoke: without a terminal or --yes it asks for confirmation (exit 5)", "[revoke][pg]") {
  RevokeScenario r;
  r.advanceToRevoke();
  r.waitWindow();
  const std::string before = r.db().schemaDump();
  CliResult run = r.cli({"run", "revoke", "--json"});
  INFO(run.out << run.err);
  CHECK(run.exit_code == 5);
  for (const auto& [name, gate] : gatesOf(run)) CHECK(gate.first);
  CHECK(r.db().schemaDump() == before);
  CHECK(r.stepStatus("revoke") == "pending");
}

TEST_CASE("revoke: a consumer reading a table it has no projection of is named (exit 3)",
          "[revoke][pg]") {
  RevokeScenario r;
  r.advanceToRevoke();
  r.waitWindow();
  const std::string before = r.db().schemaDump();
  r.setConsumerSql("SELECT id FROM public.order_items;\n");
  CliResult run = r.cli({"run", "revoke", "--yes"});
  INFO(run.out << run.err);
  CHECK(run.exit_code == 3);
  CHECK(
      has(run.out + run.err, r.consumer() + " reads public.order_items but has no [[projection]]"));
  CHECK(r.db().schemaDump() == before);
}

TEST_CASE("revoke: observe mode lists the statements that would fail and changes nothing",
          "[revoke][pg]") {
  RevokeScenario r("deprecation_window = \"1s\"\nmode = \"observe\"\nrequire_compare = false");
  r.advanceToRevoke();
  r.setConsumerSql("SELECT total FROM public.orders;\nSELECT 1;\n");
  const std::string before = r.db().schemaDump();
  CliResult run = r.cli({"run", "revoke", "--yes", "--json"});
  INFO(run.out << run.err);
  CHECK(run.exit_code == 3);
  auto g = gatesOf(run);
  CHECK_FALSE(g["observe"].first);
  CHECK(has(g["observe"].second, "1 statement(s)"));
  CHECK(has(g["observe"].second, "reads public.orders of " + r.owner()));
  CHECK(has(g["observe"].second, "SELECT total FROM public.orders"));
  CHECK(r.db().schemaDump() == before);
  // The dry-run shows the same report and the actions an enforce run would take.
  CliResult dry = r.cli({"run", "revoke", "--dry-run"});
  CHECK(has(dry.out + dry.err, "would fail"));
  CHECK(has(dry.out, "revoke/owner/" + r.owner()));
}

TEST_CASE("revoke: a deprecation window that does not parse is a plan error (exit 2)",
          "[revoke][pg]") {
  RevokeScenario r("deprecation_window = \"a week\"");
  CliResult run = r.cli({"run", "revoke", "--dry-run"});
  CHECK(run.exit_code == 2);
  CHECK(has(run.err, "deprecation_window"));
}

TEST_CASE("revoke: a plan where nobody reads another's tables applies with zero actions",
          "[revoke][pg]") {
  OutboxScenario s({"orders", "shipping"},
                   "CREATE TABLE public.orders (id int PRIMARY KEY);\n"
                   "CREATE TABLE public.shipments (id int PRIMARY KEY);\n",
                   "[[table]]\nname = \"public.orders\"\nowner = \"@orders@\"\n\n"
                   "[[table]]\nname = \"public.shipments\"\nowner = \"@shipping@\"\n");
  s.advanceToOutbox();
  REQUIRE(s.cli({"run", "--next", "--yes"}).exit_code == 0);  // outbox: nothing to publish
  REQUIRE(s.cli({"run", "--next", "--yes"}).exit_code == 0);  // projections: none declared
  REQUIRE(s.stepStatus("projections")["status"] == "applied");
  const std::string before = s.db().schemaDump();
  CliResult run = s.cli({"run", "--next", "--json"});
  INFO(run.out << run.err);
  REQUIRE(run.exit_code == 0);
  for (const auto& g : eventsOf(jsonLines(run.out), "gate")) CHECK(g["passed"] == true);
  CHECK(s.stepStatus("revoke")["status"] == "applied");
  CHECK(s.stepStatus("revoke")["actions_total"] == 0);
  CHECK(s.db().schemaDump() == before);
  REQUIRE(s.cli({"rollback", "revoke"}).exit_code == 0);
}

TEST_CASE(
    "revoke: a waived write still happening blocks and is marked, once stopped revoke takes it "
    "and rollback gives it back",
    "[revoke][pg]") {
  RevokeScenario r("deprecation_window = \"1s\"\nrequire_compare = false",
                   "[[waiver]]\nservice = \"@consumer@\"\ntable = \"public.orders\"\n"
                   "reason = \"status write-back\"\n");
  const std::string ful_app = r.role("ful_app");
  const std::string write_back = "UPDATE public.orders SET status = 'shipped' WHERE id = 1";
  // The catalogue of step 1 sees the write, so step 2 gives it back.
  r.setConsumerSql(write_back + ";\n");
  r.advanceToRevoke();
  REQUIRE(r.sqlstateAs(ful_app, write_back).empty());  // step 2 kept the waived write
  r.waitWindow();
  const std::string before = r.db().schemaDump();
  const std::string acl = r.aclState();

  r.setConsumerSql(write_back + ";\n" + write_back + ";\n");  // once more in the window
  CliResult blocked = r.cli({"run", "revoke", "--yes", "--json"});
  INFO(blocked.out << blocked.err);
  CHECK(blocked.exit_code == 3);
  auto g = gatesOf(blocked);
  CHECK_FALSE(g["deprecation_window"].first);
  const std::string& ev = g["deprecation_window"].second;
  CHECK(has(ev, r.consumer() + " writes public.orders of " + r.owner()));
  CHECK(has(ev, "(waived in step 2: \"status write-back\"; this step revokes waived writes too"));
  CHECK(r.db().schemaDump() == before);

  r.setConsumerSql("SELECT 1;\n");
  CliResult run = r.cli({"run", "revoke", "--yes", "--json"});
  INFO(run.out << run.err);
  REQUIRE(run.exit_code == 0);
  CHECK(r.sqlstateAs(ful_app, write_back) == "42501");
  REQUIRE(r.cli({"rollback", "revoke"}).exit_code == 0);
  CHECK(r.db().schemaDump() == before);
  CHECK(r.aclState() == acl);
  CHECK(r.sqlstateAs(ful_app, write_back).empty());
}

TEST_CASE(
    "revoke on an idle window: consumers that ran no statement at all block until the plan "
    "acknowledges it",
    "[revoke][pg]") {
  RevokeScenario r(
      "deprecation_window = \"1s\"\nrequire_compare = false\nacknowledge_idle_window = false", {},
      true);
  r.advanceToRevoke();
  r.waitWindow();
  const std::string before = r.db().schemaDump();
  const std::string plan = readFile(r.s().planPath());

  // The consumer's roles ran nothing at all: "no read" proves nothing.
  CliResult idle = r.cli({"run", "revoke", "--yes", "--json"});
  INFO(idle.out << idle.err);
  CHECK(idle.exit_code == 3);
  auto g = gatesOf(idle);
  CHECK_FALSE(g["deprecation_window"].first);
  // Both services lose something (the owner's role reads the consumer's
  // public.shipments): both are named.
  CHECK(has(g["deprecation_window"].second,
            r.consumer() + ", " + r.owner() + " ran no statement at all in the window"));
  CHECK(has(g["deprecation_window"].second, "acknowledge_idle_window = true"));
  CHECK(r.db().schemaDump() == before);

  // Acknowledged in the plan: the gate passes and still says so (exit 5: the
  // confirmation is next).
  std::string acked = plan;
  const std::string key = "acknowledge_idle_window = false";
  REQUIRE(acked.find(key) != std::string::npos);
  acked.replace(acked.find(key), key.size(), "acknowledge_idle_window = true");
  r.s().dir().write("dbsplit.toml", acked);
  CliResult ack = r.cli({"run", "revoke", "--json"});
  INFO(ack.out << ack.err);
  CHECK(ack.exit_code == 5);
  g = gatesOf(ack);
  CHECK(g["deprecation_window"].first);
  CHECK(has(g["deprecation_window"].second, "accepted: acknowledge_idle_window = true"));
  CHECK(r.db().schemaDump() == before);

  // Without the acknowledgement, consumers seen working (each on its own
  // table) pass the gate.
  r.s().dir().write("dbsplit.toml", plan);
  REQUIRE(r.sqlstateAs(r.role("ful_app"), "SELECT count(*) FROM public.shipments").empty());
  REQUIRE(r.sqlstateAs(r.role("orders_app"), "SELECT count(*) FROM public.orders").empty());
  CliResult seen = r.cli({"run", "revoke", "--json"});
  INFO(seen.out << seen.err);
  CHECK(seen.exit_code == 5);
  g = gatesOf(seen);
  CHECK(g["deprecation_window"].first);
  CHECK_FALSE(has(g["deprecation_window"].second, "ran no statement"));
  CHECK(r.db().schemaDump() == before);
}
