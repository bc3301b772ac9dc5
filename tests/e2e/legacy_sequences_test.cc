// Sequences no column owns (made apart from their tables, as ORMs and old
// dumps do: no OWNED BY), used by a table's column default: ownership hands
// them to the owner of the tables whose defaults use them and takes nextval
// and setval from the other services; a sequence two owners' tables use
// blocks with a gate naming it; revoke takes what is left; split moves them
// into the owner's schema with their tables. Through the lifecycle harness
// (support/lifecycle.h): exact rollback, a fault at every action boundary.
#include "catch2/catch.hpp"
#include "sql/quote.h"
#include "support/lifecycle.h"
#include "support/ownership_fixture.h"
#include "support/revoke_fixture.h"
#include "support/scenario.h"
#include "support/split_fixture.h"

using namespace dbsplit::test;
using dbsplit::sql::quoteIdent;

namespace {

// SQLSTATE of `sql` run as `role`, "" when it succeeds.
std::string sqlstateAs(const TestDb& db, const std::string& role, const std::string& sql) {
  auto c = connect(db.superDsn());
  c->exec("SET ROLE " + quoteIdent(role));
  try {
    c->exec(sql);
  } catch (const dbsplit::Error& e) {
    return e.sqlstate().empty() ? "?" : e.sqlstate();
  }
  return "";
}

// A hostile sequence name: quotes, a space, mixed case.
const std::string kSeq = R"(public."Rental ""Seq""")";
const std::string kSeqLiteral = R"('public."Rental ""Seq"""')";

// public.rental draws its ids from a sequence no column owns; both services'
// login roles were granted nextval and setval on it.
void legacySchema(OwnershipScenario& s) {
  const std::string orders_app = quoteIdent(s.role("orders_app"));
  const std::string ful_app = quoteIdent(s.role("ful_app"));
  s.db().exec("CREATE SEQUENCE " + kSeq + ";\n" +
              "CREATE TABLE public.rental (\n"
              "  rental_id int PRIMARY KEY DEFAULT nextval(" +
              kSeqLiteral +
              "),\n"
              "  note text);\n" +
              "GRANT SELECT, INSERT, UPDATE ON public.rental TO " + orders_app + ";\n" +
              "GRANT USAGE, UPDATE, SELECT ON SEQUENCE " + kSeq + " TO " + ful_app + ", " +
              orders_app + ";\n" + "GRANT USAGE ON SEQUENCE " + kSeq + " TO PUBLIC;\n");
}

}  // namespace

TEST_CASE(
    "ownership takes over a sequence no column owns: another service's nextval and setval fail "
    "and the owner's work with exact rollback also after a fault at every action boundary",
    "[ownership][sequences][pg][slow]") {
  Lifecycle<OwnershipScenario> c;
  c.step = "ownership";
  c.build = [] {
    auto s = std::make_unique<OwnershipScenario>(std::string(), false);
    legacySchema(*s);
    s->writePlan({"public.rental"});
    s->runCatalogue();
    return s;
  };
  c.state = [](OwnershipScenario& s) { return s.aclState(); };
  c.status_tells_committed = true;
  c.actions = [](OwnershipScenario&, const std::vector<std::string>& ids) {
    CHECK(std::count(ids.begin(), ids.end(), "ownership/sequence/public.Rental \"Seq\"") == 1);
  };
  c.dry_run = [](OwnershipScenario& s, const CliResult& r) {
    CHECK(r.out.find("ALTER SEQUENCE \"public\".\"Rental \"\"Seq\"\"\"\n  OWNER TO \"" + s.owner() +
                     "\"") != std::string::npos);
  };
  c.applied = [](OwnershipScenario& s) {
    const std::string nextval = "SELECT nextval(" + kSeqLiteral + ")";
    const std::string setval = "SELECT setval(" + kSeqLiteral + ", 1000)";
    CHECK(s.db().scalar("SELECT relowner::regrole::text FROM pg_class WHERE oid = " + kSeqLiteral +
                        "::regclass") == s.owner());
    CHECK(sqlstateAs(s.db(), s.role("ful_app"), nextval) == "42501");
    CHECK(sqlstateAs(s.db(), s.role("ful_app"), setval) == "42501");
    CHECK(sqlstateAs(s.db(), s.role("orders_app"), nextval).empty());
    CHECK(sqlstateAs(s.db(), s.role("orders_app"), "INSERT INTO public.rental (note) VALUES ('x')")
              .empty());
    // Reads stay until step 5.
    CHECK(sqlstateAs(s.db(), s.role("ful_app"), "SELECT last_value FROM " + kSeq).empty());
  };
  runLifecycle(c);
}

TEST_CASE(
    "ownership: a sequence no column owns that two owners' tables use blocks, named with both "
    "tables",
    "[ownership][sequences][pg]") {
  OwnershipScenario s(std::string(), false);
  legacySchema(s);
  s.db().exec("CREATE TABLE public.payment (\n  payment_id int PRIMARY KEY DEFAULT nextval(" +
              kSeqLiteral + "));\n");
  s.writePlan({"public.rental"},
              "[[table]]\nname = \"public.payment\"\nowner = \"" + s.consumer() + "\"\n");
  s.runCatalogue();
  const std::string before = s.db().schemaDump();
  CliResult run = s.cli({"run", "ownership", "--json"});
  INFO(run.out << run.err);
  CHECK(run.exit_code == 3);
  bool named = false;
  for (const auto& g : eventsOf(jsonLines(run.out), "gate")) {
    if (g["gate"] != "shared_sequences") continue;
    const std::string ev = g["evidence"];
    CHECK(g["passed"] == false);
    named = ev.find("public.Rental \"Seq\"") != std::string::npos &&
            ev.find("public.rental.rental_id of " + s.owner()) != std::string::npos &&
            ev.find("public.payment.payment_id of " + s.consumer()) != std::string::npos;
  }
  CHECK(named);
  CHECK(s.db().schemaDump() == before);
}

TEST_CASE("revoke takes the other services' remaining access to a sequence no column owns",
          "[revoke][sequences][pg]") {
  RevokeScenario r("deprecation_window = \"1s\"\nrequire_compare = false");
  // public.order_items (the owner's) takes its ids from a sequence of its own,
  // no column's, which the consumer may read.
  const std::string ful_app = quoteIdent(r.role("ful_app"));
  r.db().exec(
      "CREATE SEQUENCE public.item_no;\n"
      "ALTER TABLE public.order_items ADD COLUMN item_no bigint DEFAULT "
      "nextval('public.item_no');\n"
      "GRANT SELECT ON SEQUENCE public.item_no TO " +
      ful_app + ";\n");
  r.advanceToRevoke();
  r.waitWindow();
  CHECK(r.sqlstateAs(r.role("ful_app"), "SELECT last_value FROM public.item_no").empty());
  CliResult run = r.cli({"run", "revoke", "--yes"});
  INFO(run.out << run.err);
  REQUIRE(run.exit_code == 0);
  CHECK(r.sqlstateAs(r.role("ful_app"), "SELECT last_value FROM public.item_no") == "42501");
  CHECK(r.sqlstateAs(r.role("orders_app"), "SELECT nextval('public.item_no')").empty());
  REQUIRE(r.cli({"rollback", "revoke"}).exit_code == 0);
  CHECK(r.sqlstateAs(r.role("ful_app"), "SELECT last_value FROM public.item_no").empty());
}

namespace {

const char* kSplitSetup = R"SQL(
CREATE SEQUENCE public."Rental ""Seq""";
CREATE TABLE public.rental (
  rental_id int PRIMARY KEY DEFAULT nextval('public."Rental ""Seq"""'),
  note text);
CREATE FUNCTION public.next_rental() RETURNS bigint LANGUAGE sql
  AS $$SELECT nextval('"Rental ""Seq"""')$$;
)SQL";

const char* kSplitPlan = R"TOML(
[[table]]
name = "public.rental"
owner = "@orders@"
)TOML";

}  // namespace

TEST_CASE(
    "split pins the search_path of a function naming a sequence no column owns without a schema",
    "[split][sequences][pg]") {
  SplitScenario s({"orders"}, kSplitSetup, kSplitPlan, {{"orders", {"app"}}});
  s.advanceTo("split");
  CliResult dry = s.cli({"run", "split", "--dry-run"});
  INFO(dry.out << dry.err);
  CHECK(dry.exit_code == 0);
  CHECK(dry.out.find("ALTER FUNCTION public.next_rental()\n  SET search_path = \"" +
                     s.service("orders") + "\", \"$user\", \"public\";") != std::string::npos);
  CHECK(dry.out.find("ALTER FUNCTION public.next_rental()\n  RESET search_path;") !=
        std::string::npos);
  CHECK((dry.out + dry.err).find("get a pinned search_path first") != std::string::npos);
}

TEST_CASE(
    "split moves a sequence no column owns with its table and the owner's inserts and functions "
    "keep working with exact rollback also after a fault at every action boundary",
    "[split][sequences][pg][slow]") {
  Lifecycle<SplitScenario> c;
  c.step = "split";
  c.build = [] {
    auto s = std::make_unique<SplitScenario>(
        std::vector<std::string>{"orders"}, kSplitSetup, kSplitPlan,
        std::map<std::string, std::vector<std::string>>{{"orders", {"app"}}});
    // No allow_unqualified: next_rental() gets a pinned search_path.
    s->advanceTo("split");
    return s;
  };
  c.state = [](SplitScenario& s) { return s.roleSettings(); };
  c.actions = [](SplitScenario& s, const std::vector<std::string>& ids) {
    CHECK(ids == std::vector<std::string>{"split/search_path/" + s.role("app"),
                                          "split/pin_search_path/public.next_rental()",
                                          "split/move/public.rental",
                                          "split/move_sequence/public.Rental \"Seq\""});
  };
  c.applied = [](SplitScenario& s) {
    const std::string svc = s.service("orders");
    CHECK(s.db().scalar("SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = "
                        "c.relnamespace WHERE c.relname = 'Rental \"Seq\"'") == svc);
    // The function finds the moved sequence through its pinned path.
    CHECK(s.db().scalar("SELECT public.next_rental() > 0") == "t");
    // The default is bound to the sequence's OID: it follows.
    auto conn = connect(s.roleDsn(s.role("app")));
    pg::Transaction tx(*conn);
    conn->exec("INSERT INTO rental (note) VALUES ('after the split')");
    CHECK(conn->exec("SELECT count(*) FROM rental")[0][0].as<int>() >= 1);
  };
  c.recovery = Recovery::kAlternate;
  c.status_tells_committed = true;
  runLifecycle(c);
}
