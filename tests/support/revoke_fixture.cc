#include "support/revoke_fixture.h"

#include <chrono>
#include <thread>

#include "catch2/catch.hpp"
#include "journal/journal.h"
#include "nlohmann/json.hpp"
#include "sql/quote.h"
#include "support/scenario.h"

namespace dbsplit::test {
namespace {

using dbsplit::sql::quoteIdent;

}  // namespace

const char* const kOrderViewProjection = R"TOML(
[[event]]
table = "public.orders"
aggregate_type = "order"

[[projection]]
consumer = "@consumer@"
source = "public.orders"
name = "order_view"
columns = ["id", "status"]
key = ["id"]
)TOML";

std::map<std::string, std::pair<bool, std::string>> gatesOf(const CliResult& run) {
  std::map<std::string, std::pair<bool, std::string>> out;
  for (const auto& g : eventsOf(jsonLines(run.out), "gate")) {
    out[g["gate"]] = {g["passed"].get<bool>(), g["evidence"].get<std::string>()};
  }
  return out;
}

RevokeScenario::RevokeScenario(const std::string& revoke_settings, const std::string& extra_plan,
                               bool pg_stat_statements)
    : s_() {
  auto str = [](const std::string& v) { return nlohmann::json(v).dump(); };
  setConsumerSql("SELECT 1;\n");
  // Two catalogue sources: the owner's file (from the ownership fixture) and
  // the consumer's.
  std::string extra = extra_plan;
  for (const auto& [token, name] : {std::make_pair(std::string("@consumer@"), s_.consumer()),
                                    std::make_pair(std::string("@owner@"), s_.owner())}) {
    for (size_t at; (at = extra.find(token)) != std::string::npos;) {
      extra.replace(at, token.size(), name);
    }
  }
  // A table of the consumer's that the owner's login role reads: a second
  // owning service, so the step has two actions.
  db().exec(
      "CREATE TABLE public.shipments (id int PRIMARY KEY, order_id bigint);\n"
      "GRANT SELECT ON public.shipments TO " +
      quoteIdent(role("orders_app")));
  // The SQL files stand in for the consumer's statements and never grow, so
  // the consumer looks idle to the window gate: acknowledged here unless the
  // test says otherwise (tests/e2e/revoke_gates_test.cc tests the idle window).
  std::string settings = revoke_settings;
  if (settings.find("acknowledge_idle_window") == std::string::npos) {
    settings += "\nacknowledge_idle_window = true";
  }
  std::string plan = "[[table]]\nname = \"public.shipments\"\nowner = " + str(s_.consumer()) +
                     "\n\n[step.revoke]\n" + settings + "\n\n" + extra;
  s_.writePlan(ownershipTables(), plan);
  std::string text = readFile(s_.planPath());
  const std::string sources = "sources = [";
  size_t at = text.find(sources);
  REQUIRE(at != std::string::npos);
  if (pg_stat_statements) {
    size_t end = text.find('\n', at);
    text.replace(at, end - at, "sources = [\"pg_stat_statements\"]");
    db().exec("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
  } else {
    text.insert(at + sources.size(),
                str("sql:" + s_.dir().file("consumer.sql") + "@" + s_.consumer()) + ", ");
  }
  s_.dir().write("dbsplit.toml", text);
}

void RevokeScenario::setConsumerSql(const std::string& sql) const {
  s_.dir().write("consumer.sql", sql);
}

void RevokeScenario::advanceToRevoke() {
  advanceUntil([this](const auto& args) { return cli(args); }, "revoke");
  REQUIRE(stepStatus("revoke") == "pending");
  const std::string owner = quoteIdent(s_.owner()), orders_app = quoteIdent(role("orders_app")),
                    ful_app = quoteIdent(role("ful_app")), consumer = quoteIdent(s_.consumer());
  db().exec("GRANT USAGE ON SCHEMA " + owner + " TO " + ful_app + ";\n" +
            "GRANT USAGE, CREATE ON SCHEMA " + owner + " TO PUBLIC;\n" +
            "GRANT USAGE ON SEQUENCE public.order_items_id_seq TO " + ful_app + ";\n" +
            "ALTER DEFAULT PRIVILEGES FOR ROLE " + orders_app + " GRANT SELECT ON TABLES TO " +
            ful_app + ", " + quoteIdent(role("reporter")) + ";\n" +
            "ALTER DEFAULT PRIVILEGES FOR ROLE " + owner +
            " IN SCHEMA public GRANT SELECT, UPDATE ON TABLES TO PUBLIC, " + consumer + ";\n" +
            "ALTER DEFAULT PRIVILEGES FOR ROLE " + owner + " GRANT USAGE ON SEQUENCES TO " +
            consumer + " WITH GRANT OPTION;\n" +
            // The consumer's own data in its schema, standing in for a projection of
            // step 4 (not declared, so the projections step leaves it alone).
            "CREATE TABLE " + consumer + ".order_copy (id bigint PRIMARY KEY, status text);\n" +
            "ALTER TABLE " + consumer + ".order_copy OWNER TO " + consumer + ";\n" +
            "INSERT INTO " + consumer + ".order_copy VALUES (1, 'new');\n");
}

void RevokeScenario::waitWindow() const { std::this_thread::sleep_for(std::chrono::seconds(2)); }

void RevokeScenario::addCompare(bool clean) const {
  nlohmann::json body = {
      {"consumer", s_.consumer()},
      {"clean", clean},
      {"started_at", "2026-01-01T00:00:00.000Z"},
      {"finished_at", "2026-01-01T00:00:01.000Z"},
      {"relay_snapshot", "100:100:"},
      {"tables",
       {{{"projection", s_.consumer() + ".order_view"},
         {"source", "public.orders"},
         {"source_rows", 3},
         {"projection_rows", clean ? 3 : 2},
         {"missing", clean ? 0 : 1},
         {"extra", 0},
         {"different", 0}}}},
      {"differences", clean ? nlohmann::json::array()
                            : nlohmann::json::array({{{"projection", s_.consumer() + ".order_view"},
                                                      {"kind", "missing"},
                                                      {"key", {{"id", 3}}}}})}};
  auto j = journal::Journal::open(s_.journalPath(), journal::Journal::Mode::kReadWrite);
  j->addSnapshot("compare", body.dump());
}

void RevokeScenario::addRelayStart() const {
  auto j = journal::Journal::open(s_.journalPath(), journal::Journal::Mode::kReadWrite);
  j->addSnapshot("relay_start",
                 nlohmann::json({{"consumer", s_.consumer()}, {"snapshot", "100:100:"}}).dump());
}

std::string RevokeScenario::stepStatus(const std::string& step) const {
  CliResult r = cli({"status", "--json"});
  for (const auto& ev : eventsOf(jsonLines(r.out), "step")) {
    if (ev["step"] == step) return ev["status"];
  }
  return "";
}

std::string RevokeScenario::aclState() const {
  std::string out = s_.aclState();
  for (const auto& row : s_.db().rows(
           "SELECT nspname, coalesce(nspacl::text, 'NULL') FROM pg_namespace ORDER BY 1")) {
    out += row[0] + " " + row[1] + "\n";
  }
  for (const auto& row :
       s_.db().rows("SELECT defaclrole::regrole::text, defaclnamespace::regnamespace::text, "
                    "defaclobjtype, defaclacl::text FROM pg_default_acl ORDER BY 1, 2, 3")) {
    out += row[0] + " " + row[1] + " " + row[2] + " " + row[3] + "\n";
  }
  return out;
}

std::string RevokeScenario::sqlstateAs(const std::string& role, const std::string& sql) const {
  auto c = connect(s_.db().superDsn());
  c->exec("SET ROLE " + dbsplit::sql::quoteIdent(role));
  try {
    c->exec(sql);
  } catch (const Error& e) {
    return e.sqlstate().empty() ? std::string("error: ") + e.what() : e.sqlstate();
  }
  return "";
}

}  // namespace dbsplit::test
