// Invalid plans: each problem is reported with the file:line:column of the
// value (or entry) at fault and a message that says what is wrong, and every
// problem in a file is reported at once.
#include <string>
#include <vector>

#include "catch2/catch.hpp"
#include "plan/plan.h"
#include "util/error.h"

using dbsplit::Error;
using dbsplit::ExitCode;
using dbsplit::plan::parsePlan;

namespace {

// 11 lines; text appended to it starts on line 12.
const std::string kBase = R"([migration]
name = "shop"
[[service]]
name = "orders"
roles = ["orders_app"]
[[service]]
name = "fulfillment"
roles = ["fulfillment_app"]
[[table]]
name = "public.orders"
owner = "orders"
)";

// 4 lines (12-15) publishing public.orders; appended text starts on line 16.
const std::string kEvent = R"([[event]]
table = "public.orders"
aggregate_type = "order"
columns = ["id", "status", "total"]
)";

const std::string kProjectionHead = R"([[projection]]
consumer = "fulfillment"
source = "public.orders"
name = "order_view"
)";

// Ends a [[projection]] entry after its name: 2 lines.
const std::string kTail = "columns = [\"id\", \"status\"]\nkey = [\"id\"]\n";

// The detail lines of the plan_invalid error `text` raises.
std::vector<std::string> problemsOf(const std::string& text) {
  try {
    parsePlan(text, "plan.toml");
  } catch (const Error& e) {
    CHECK(e.kind() == "plan_invalid");
    CHECK(e.code() == ExitCode::kUsage);
    return e.details();
  }
  FAIL("the plan was accepted:\n" << text);
  return {};
}

struct Case {
  const char* what;
  std::string text;
  const char* position;  // "line:column"
  std::string message;   // substring of the message
};

}  // namespace

TEST_CASE("each kind of invalid plan is reported at the offending line and column", "[plan]") {
  const std::vector<Case> cases = {
      {"TOML syntax error", "[migration]\nname = \"shop\n", "2:13", "TOML syntax error"},
      {"syntax error: a key written twice",
       kBase + "[[table]]\nname = \"public.x\"\nname = \"y\"\n", "14:8", "TOML syntax error"},
      {"missing [migration]", "[[service]]\nname = \"orders\"\n", "1:1",
       "missing required table [migration]"},
      {"[migration] without a name", "[migration]\ndatabase = \"postgresql:///shop\"\n", "1:1",
       "[migration]: missing required key \"name\""},
      {"bad migration name", "[migration]\nname = \"Shop Breakup\"\n", "2:8",
       "[migration] name: \"Shop Breakup\" must match [a-z0-9_-]+"},
      {"migration name too long for dbsplit's application_name",
       "[migration]\nname = \"" + std::string(43, 'm') + "\"\n", "2:8",
       "is 43 bytes, longer than 42"},
      {"projection named like the consumer's cursor table",
       kBase + kEvent + kProjectionHead.substr(0, kProjectionHead.find("name")) +
           "name = \"dbsplit_cursor\"\n" + kTail,
       "19:8", "fulfillment.dbsplit_cursor, which is already the relay's cursor table"},
      {"projection named outbox in a publishing consumer",
       kBase + "[[table]]\nname = \"public.shipments\"\nowner = \"fulfillment\"\n" + kEvent +
           "[[event]]\ntable = \"public.shipments\"\naggregate_type = \"shipment\"\n" +
           kProjectionHead.substr(0, kProjectionHead.find("name")) + "name = \"outbox\"\n" + kTail,
       "25:8", "fulfillment.outbox, which is already the outbox dbsplit makes"},
      {"projection whose primary key takes another projection's name",
       kBase + kEvent + kProjectionHead + kTail +
           kProjectionHead.substr(0, kProjectionHead.find("name")) +
           "name = \"order_view_pkey\"\n" + kTail,
       "25:8",
       "projection order_view_pkey would be fulfillment.order_view_pkey, which is already "
       "the primary key index of projection order_view (at plan.toml:19:8)"},
      {"two long projection names whose primary keys clip to one name",
       kBase + kEvent + kProjectionHead.substr(0, kProjectionHead.find("name")) + "name = \"" +
           std::string(58, 'p') + "a\"\n" + kTail +
           kProjectionHead.substr(0, kProjectionHead.find("name")) + "name = \"" +
           std::string(58, 'p') + "b\"\n" + kTail,
       "25:8", "(clipped to 63 bytes) would be fulfillment." + std::string(58, 'p') + "_pkey"},
      {"a table moved by split onto its owner's projection",
       kBase + "[[table]]\nname = \"public.order_view\"\nowner = \"fulfillment\"\n" + kEvent +
           kProjectionHead + kTail,
       "22:8",
       "projection order_view would be fulfillment.order_view, which is already table "
       "public.order_view (moved by split)"},
      {"empty journal path", "[migration]\nname = \"shop\"\njournal = \"\"\n", "3:11",
       "[migration] journal: must not be empty"},
      {"unknown top-level key", kBase + "[[tables]]\nname = \"public.x\"\nowner = \"orders\"\n",
       "12:3", "unknown key \"tables\" at the top of the plan (did you mean \"table\"?)"},
      {"unknown key with did-you-mean",
       kBase + "[[service]]\nname = \"billing\"\nrole = [\"billing_app\"]\n", "14:1",
       "unknown key \"role\" in [[service]] (did you mean \"roles\"?)"},
      {"wrong value type", kBase + "[[service]]\nname = 42\n", "13:8",
       "[[service]] name: expected a string, found an integer"},
      {"wrong element type", kBase + "[[service]]\nname = \"billing\"\nroles = [\"a\", 7]\n",
       "14:15", "[[service]] roles[1]: expected a string, found an integer"},
      {"[service] instead of [[service]]",
       "[migration]\nname = \"shop\"\n[service]\nname = \"x\"\n", "3:1",
       "service: expected an array of tables ([[service]]), found a table"},
      {"service name pattern", kBase + "[[service]]\nname = \"Billing\"\n", "13:8",
       "\"Billing\" must match [a-z0-9_-]+"},
      {"service declared twice", kBase + "[[service]]\nname = \"orders\"\n", "13:8",
       "service \"orders\" declared twice (first at plan.toml:3:1)"},
      {"role in two services",
       kBase + "[[service]]\nname = \"billing\"\nroles = [\"billing_app\", \"orders_app\"]\n",
       "14:25", "role \"orders_app\" belongs to services orders and billing"},
      {"role listed twice in one service",
       kBase + "[[service]]\nname = \"billing\"\nroles = [\"b\", \"b\"]\n", "14:15",
       "[[service]] roles: \"b\" is listed twice"},
      {"missing owner", kBase + "[[table]]\nname = \"public.customers\"\n", "12:1",
       "[[table]]: missing required key \"owner\""},
      {"two owners for one table",
       kBase + "[[table]]\nname = \"Public.Orders\"\nowner = \"fulfillment\"\n", "13:8",
       "public.orders declared twice (first at plan.toml:9:1): a table has exactly one owner"},
      {"owner not a declared service",
       kBase + "[[table]]\nname = \"public.shipments\"\nowner = \"fulfilment\"\n", "14:9",
       "\"fulfilment\" is not a declared [[service]] (did you mean \"fulfillment\"?)"},
      {"table name not schema-qualified",
       kBase + "[[table]]\nname = \"customers\"\nowner = \"orders\"\n", "13:8",
       "[[table]] name: \"customers\" is not schema-qualified"},
      {"table name with three parts",
       kBase + "[[table]]\nname = \"shop.public.customers\"\nowner = \"orders\"\n", "13:8",
       "too many parts"},
      {"event for an undeclared table",
       kBase + "[[event]]\ntable = \"public.order\"\naggregate_type = \"order\"\n", "13:9",
       "public.order is not a declared [[table]] (did you mean \"public.orders\"?)"},
      {"event without aggregate_type", kBase + "[[event]]\ntable = \"public.orders\"\n", "12:1",
       "[[event]]: missing required key \"aggregate_type\""},
      {"event declared twice for one table",
       kBase + kEvent + "[[event]]\ntable = \"public.ORDERS\"\naggregate_type = \"order\"\n",
       "17:9", "public.orders already has an [[event]] (first at plan.toml:12:1)"},
      {"exclude overlapping columns",
       kBase + "[[event]]\ntable = \"public.orders\"\naggregate_type = \"order\"\n"
               "columns = [\"id\", \"card_number\"]\nexclude = [\"card_number\"]\n",
       "16:12", "column \"card_number\" is also in columns"},
      {"aggregate_id excluded",
       kBase + "[[event]]\ntable = \"public.orders\"\naggregate_type = \"order\"\n"
               "aggregate_id = \"card\"\nexclude = [\"card\"]\n",
       "15:16", "[[event]] aggregate_id: column \"card\" is excluded"},
      {"empty aggregate_id",
       kBase + "[[event]]\ntable = \"public.orders\"\naggregate_type = \"o\"\naggregate_id = []\n",
       "15:16", "must name at least one column"},
      {"empty event columns",
       kBase + "[[event]]\ntable = \"public.orders\"\naggregate_type = \"o\"\ncolumns = []\n",
       "15:11", "[[event]] columns: must not be empty"},
      {"unknown operation",
       kBase + "[[event]]\ntable = \"public.orders\"\naggregate_type = \"o\"\n"
               "operations = [\"insert\", \"delte\"]\n",
       "15:25", "\"delte\" is not one of insert, update, delete (did you mean \"delete\"?)"},
      {"unknown truncate mode",
       kBase + "[[event]]\ntable = \"public.orders\"\naggregate_type = \"o\"\n"
               "truncate = \"publsh\"\n",
       "15:12", "\"publsh\" is not one of refuse, publish (did you mean \"publish\"?)"},
      {"unknown projection column",
       kBase + kEvent + kProjectionHead + "columns = [\"id\", \"statuss\"]\nkey = [\"id\"]\n",
       "20:18",
       "column \"statuss\" is not published by the [[event]] for public.orders (published: id, "
       "status, total) (did you mean \"status\"?)"},
      {"projection of an excluded column",
       kBase +
           "[[event]]\ntable = \"public.orders\"\naggregate_type = \"o\"\n"
           "exclude = [\"card\"]\n" +
           kProjectionHead + "columns = [\"id\", \"card\"]\nkey = [\"id\"]\n",
       "20:18", "column \"card\" is excluded by the [[event]] for public.orders"},
      {"key not in columns",
       kBase + kEvent + kProjectionHead + "columns = [\"id\", \"status\"]\nkey = [\"order_id\"]\n",
       "21:8", "[[projection]] key: column \"order_id\" is not in columns"},
      {"empty projection columns",
       kBase + kEvent + kProjectionHead + "columns = []\nkey = [\"id\"]\n", "20:11",
       "[[projection]] columns: must list at least one column"},
      {"missing projection key", kBase + kEvent + kProjectionHead + "columns = [\"id\"]\n", "16:1",
       "[[projection]]: missing required key \"key\""},
      {"projection consumer not declared",
       kBase + kEvent +
           "[[projection]]\nconsumer = \"fulfilment\"\nsource = \"public.orders\"\n"
           "name = \"v\"\ncolumns = [\"id\"]\nkey = [\"id\"]\n",
       "17:12", "\"fulfilment\" is not a declared [[service]] (did you mean \"fulfillment\"?)"},
      {"projection by the source's owner",
       kBase + kEvent +
           "[[projection]]\nconsumer = \"orders\"\nsource = \"public.orders\"\n"
           "name = \"v\"\ncolumns = [\"id\"]\nkey = [\"id\"]\n",
       "17:12", "\"orders\" owns public.orders"},
      {"projection source without an event",
       kBase + kProjectionHead + "columns = [\"id\"]\nkey = [\"id\"]\n", "14:10",
       "public.orders has no [[event]]"},
      {"projection source not declared",
       kBase + kEvent +
           "[[projection]]\nconsumer = \"fulfillment\"\nsource = \"public.orderz\"\n"
           "name = \"v\"\ncolumns = [\"id\"]\nkey = [\"id\"]\n",
       "18:10", "public.orderz is not a declared [[table]] (did you mean \"public.orders\"?)"},
      {"projection name used twice by one consumer",
       kBase + kEvent + kProjectionHead + "columns = [\"id\"]\nkey = [\"id\"]\n" + kProjectionHead +
           "columns = [\"status\"]\nkey = [\"status\"]\n",
       "25:8",
       "\"order_view\" is already a projection of \"fulfillment\" (first at plan.toml:16:1)"},
      {"projection name too long",
       kBase + kEvent +
           "[[projection]]\nconsumer = \"fulfillment\"\nsource = \"public.orders\"\n"
           "name = \"" +
           std::string(64, 'v') + "\"\ncolumns = [\"id\"]\nkey = [\"id\"]\n",
       "19:8", "is 64 bytes long; PostgreSQL keeps only 63"},
      {"waiver for the owner",
       kBase + "[[waiver]]\nservice = \"orders\"\ntable = \"public.orders\"\nreason = \"x\"\n",
       "13:11", "\"orders\" owns public.orders; a waiver is for writes by a service that does not"},
      {"waiver for an undeclared table",
       kBase + "[[waiver]]\nservice = \"fulfillment\"\ntable = \"public.order\"\nreason = \"x\"\n",
       "14:9", "public.order is not a declared [[table]] (did you mean \"public.orders\"?)"},
      {"waiver with a blank reason",
       kBase +
           "[[waiver]]\nservice = \"fulfillment\"\ntable = \"public.orders\"\nreason = \"  \"\n",
       "15:10", "[[waiver]] reason: must say why"},
      {"waiver with an empty reason",
       kBase + "[[waiver]]\nservice = \"fulfillment\"\ntable = \"public.orders\"\nreason = \"\"\n",
       "15:10", "[[waiver]] reason: must not be empty"},
      {"bad duration", kBase + "[step.revoke]\ndeprecation_window = \"7 days\"\n", "13:22",
       "\"7 days\" is not a duration"},
      {"boolean setting given a string", kBase + "[step.revoke]\nrequire_compare = \"yes\"\n",
       "13:19",
       "[step.revoke] require_compare: expected a boolean (true or false), found a string"},
      {"unknown revoke mode", kBase + "[step.revoke]\nmode = \"enforced\"\n", "13:8",
       "\"enforced\" is not one of enforce, observe (did you mean \"enforce\"?)"},
      {"unknown step", kBase + "[step.revok]\nmode = \"observe\"\n", "12:7",
       "there is no step \"revok\" (did you mean \"revoke\"?)"},
      {"a key in a step without settings", kBase + "[step.outbox]\nbatch = 10\n", "13:1",
       "unknown key \"batch\" in [step.outbox] (it takes no settings)"},
      {"unknown split key", kBase + "[step.split]\nallow_unqualifed = true\n", "13:1",
       "unknown key \"allow_unqualifed\" in [step.split] (did you mean \"allow_unqualified\"?)"},
      {"unknown split mode", kBase + "[step.split]\nmode = \"schemas\"\n", "13:8",
       "\"schemas\" is not one of schema, database (did you mean \"schema\"?)"},
      {"database mode without an owner's database", kBase + "[step.split]\nmode = \"database\"\n",
       "3:1", "\"orders\" owns tables but has no database"},
      {"unknown selftest kind", kBase + "[step.selftest]\nkinds = [\"schema\", \"indexes\"]\n",
       "13:20",
       "\"indexes\" is not one of schema, comment, column, index, remote, mover (did you mean "
       "\"index\"?)"},
      {"view without a decision", kBase + "[[view]]\nname = \"public.v\"\n", "12:1",
       "[[view]]: missing required key \"decision\""},
      {"unknown view decision", kBase + "[[view]]\nname = \"public.v\"\ndecision = \"rebiuld\"\n",
       "14:12", "\"rebiuld\" is not one of rebuild, revoke, keep (did you mean \"rebuild\"?)"},
      {"a function cannot be rebuilt",
       kBase + "[[function]]\nname = \"public.f\"\ndecision = \"rebuild\"\n", "14:12",
       "\"rebuild\" is not one of revoke, keep"},
      {"rebuild without a query",
       kBase + kEvent + kProjectionHead + "columns = [\"id\"]\nkey = [\"id\"]\n" +
           "[[view]]\nname = \"public.v\"\ndecision = \"rebuild\"\nservice = \"fulfillment\"\n",
       "22:1", "[[view]]: missing required key \"query\""},
      {"rebuild for a service without projections",
       kBase + "[[view]]\nname = \"public.v\"\ndecision = \"rebuild\"\nservice = \"orders\"\n"
               "query = \"SELECT 1\"\n",
       "15:11",
       "\"orders\" has no [[projection]]; a rebuilt view reads its consumer's projections"},
      {"keep without a reason", kBase + "[[view]]\nname = \"public.v\"\ndecision = \"keep\"\n",
       "12:1", "[[view]]: missing required key \"reason\""},
      {"revoke takes no service",
       kBase + "[[view]]\nname = \"public.v\"\ndecision = \"revoke\"\nservice = \"orders\"\n",
       "15:11", "only a decision = \"rebuild\" takes service"},
      {"a view decided twice",
       kBase + "[[view]]\nname = \"public.v\"\ndecision = \"revoke\"\n" +
           "[[view]]\nname = \"public.v\"\ndecision = \"keep\"\nreason = \"reports\"\n",
       "15:1", "public.v is decided twice (\"keep\" here, \"revoke\" at plan.toml:12:1)"},
      {"a table is not a view",
       kBase + "[[view]]\nname = \"public.orders\"\ndecision = \"revoke\"\n", "13:8",
       "[[view]] name: public.orders is a [[table]]"},
  };
  for (const auto& c : cases) {
    SECTION(c.what) {
      std::vector<std::string> problems = problemsOf(c.text);
      INFO(c.what);
      std::string all;
      for (const auto& p : problems) all += p + "\n";
      INFO(all);
      REQUIRE(problems.size() == 1);
      CHECK_THAT(problems[0], Catch::StartsWith(std::string("plan.toml:") + c.position + ": "));
      CHECK_THAT(problems[0], Catch::Contains(c.message));
    }
  }
}

TEST_CASE("every problem in a plan is reported at once, in file order", "[plan]") {
  const std::string text = R"([migration]
name = "Shop"
[[service]]
name = "orders"
roles = ["app"]
[[service]]
name = "fulfillment"
roles = ["app"]
[[table]]
name = "public.orders"
owner = "order"
[[table]]
name = "public.orders"
owner = "fulfillment"
[step.revoke]
deprecation_window = "soon"
colour = "blue"
)";
  try {
    parsePlan(text, "plan.toml");
    FAIL("the plan was accepted");
  } catch (const Error& e) {
    CHECK(e.kind() == "plan_invalid");
    CHECK(std::string(e.what()) == "plan.toml: 6 problems in the plan");
    CHECK_THAT(e.hint(), Catch::Contains("dbsplit check"));
    REQUIRE(e.details().size() == 6);
    CHECK_THAT(e.details()[0], Catch::StartsWith("plan.toml:2:8: ") && Catch::Contains("Shop"));
    CHECK_THAT(e.details()[1],
               Catch::StartsWith("plan.toml:8:10: ") && Catch::Contains("role \"app\""));
    CHECK_THAT(e.details()[2], Catch::StartsWith("plan.toml:11:9: ") &&
                                   Catch::Contains("(did you mean \"orders\"?)"));
    CHECK_THAT(e.details()[3],
               Catch::StartsWith("plan.toml:13:8: ") && Catch::Contains("declared twice"));
    CHECK_THAT(e.details()[4],
               Catch::StartsWith("plan.toml:16:22: ") && Catch::Contains("not a duration"));
    CHECK_THAT(e.details()[5],
               Catch::StartsWith("plan.toml:17:1: ") && Catch::Contains("unknown key \"colour\""));
  }
}

TEST_CASE("one problem is reported in the singular", "[plan]") {
  try {
    parsePlan("[migration]\nname = \"Shop\"\n", "dir/plan.toml");
    FAIL("the plan was accepted");
  } catch (const Error& e) {
    CHECK(std::string(e.what()) == "dir/plan.toml: 1 problem in the plan");
    REQUIRE(e.details().size() == 1);
    CHECK_THAT(e.details()[0], Catch::StartsWith("dir/plan.toml:2:8: "));
  }
}

TEST_CASE("a plan file that cannot be read is its own error", "[plan]") {
  try {
    dbsplit::plan::loadPlan("/nonexistent/dbsplit.toml");
    FAIL("the plan was loaded");
  } catch (const Error& e) {
    CHECK(e.kind() == "plan_unreadable");
    CHECK(e.code() == ExitCode::kUsage);
    CHECK_THAT(e.what(),
               Catch::Contains("cannot read plan /nonexistent/dbsplit.toml: No such file"));
    CHECK_THAT(e.hint(), Catch::Contains("--plan FILE"));
  }
  try {
    dbsplit::plan::loadPlan("/");
    FAIL("a directory was loaded");
  } catch (const Error& e) {
    CHECK(e.kind() == "plan_unreadable");
    CHECK_THAT(e.what(), Catch::Contains("is a directory"));
  }
}
