// Implementation of the projections test fixture (see projections_fixture.h).
#include "support/projections_fixture.h"

#include <iostream>
#include <random>
#include <sstream>

#include "catch2/catch.hpp"
#include "sql/quote.h"
#include "support/scenario.h"

namespace dbsplit::test {
namespace {

using dbsplit::sql::quoteIdent;

}  // namespace

ProjectionsScenario::ProjectionsScenario(ProjectionsOptions options)
    : options_(std::move(options)) {
  // `ownership` makes the group roles; they outlive the databases.
  for (const std::string& role : {orders(), ship()}) db_.dropsRole(role);
  if (options_.consumer_database) {
    consumer_db_ = db_.name() + "_consumer";
    db_.exec("CREATE DATABASE " + quoteIdent(consumer_db_));
  }
  db_.exec(
      "CREATE EXTENSION IF NOT EXISTS pg_stat_statements;\n"
      "CREATE TABLE public.orders (id int PRIMARY KEY, customer text NOT NULL,\n"
      "  status text, total numeric(10,2), placed date, secret text);\n"
      "INSERT INTO public.orders SELECT g, 'c' || (g % 17), 'new', g * 1.5,\n"
      "  date '2026-01-01' + g % 300, 's' FROM generate_series(1, " +
      std::to_string(options_.rows) + ") g;");
  std::ostringstream plan;
  plan << "[migration]\nname = \"t\"\n\n";
  plan << "[[service]]\nname = \"" << orders() << "\"\n\n";
  plan << "[[service]]\nname = \"" << ship() << "\"\n";
  if (!options_.consumer_dsn.empty()) {
    plan << "database = \"" << options_.consumer_dsn << "\"\n";
  } else if (options_.consumer_database) {
    plan << "database = \"" << sandboxDsn(consumer_db_) << "\"\n";
  }
  plan << "\n[[table]]\nname = \"public.orders\"\nowner = \"" << orders() << "\"\n\n";
  plan << "[[event]]\ntable = \"public.orders\"\naggregate_type = \"order\"\n"
          "exclude = [\"secret\"]\n\n";
  plan << "[[projection]]\nconsumer = \"" << ship()
       << "\"\nsource = \"public.orders\"\nname = \"order_view\"\n"
          "columns = [\"id\", \"customer\", \"status\", \"total\", \"placed\"]\nkey = [\"id\"]\n";
  std::string extra = options_.extra_plan;
  for (size_t at; (at = extra.find("@ship@")) != std::string::npos;) extra.replace(at, 6, ship());
  plan << extra;
  dir_.write("dbsplit.toml", plan.str());
  plan_path_ = dir_.file("dbsplit.toml");
}

ProjectionsScenario::~ProjectionsScenario() {
  try {
    if (!consumer_db_.empty())
      db_.exec("DROP DATABASE IF EXISTS " + quoteIdent(consumer_db_) + " WITH (FORCE)");
  } catch (const std::exception& e) {
    std::cerr << "warning: cleaning up the projections scenario: " << e.what() << "\n";
  }
}

std::string ProjectionsScenario::targetDsn() const {
  return consumer_db_.empty() ? db_.dsn() : sandboxDsn(consumer_db_);
}

std::string ProjectionsScenario::targetScalar(const std::string& sql) const {
  auto c = connect(targetDsn());
  pg::Result r = c->exec(sql);
  return r.empty() || r[0][0].is_null() ? "" : r[0][0].c_str();
}

void ProjectionsScenario::targetExec(const std::string& sql) const {
  auto c = connect(targetDsn());
  c->exec(sql);
}

std::string ProjectionsScenario::targetDump() const {
  if (consumer_db_.empty()) return db_.schemaDump();
  std::string cmd = pgBindir() + "/pg_dump --schema-only -h '" + sandboxDir() + "' -p " +
                    std::to_string(sandboxPort()) + " -U postgres " + consumer_db_;
  FILE* p = popen(cmd.c_str(), "r");
  std::string out, line;
  char buf[4096];
  while (fgets(buf, sizeof buf, p)) {
    line = buf;
    // pg_dump's \restrict key is random on every run.
    if (line.rfind("\\restrict", 0) == 0 || line.rfind("\\unrestrict", 0) == 0) continue;
    out += line;
  }
  pclose(p);
  return out;
}

std::string ProjectionsScenario::projection() const { return quoteIdent(ship()) + ".order_view"; }
std::string ProjectionsScenario::cursor() const { return quoteIdent(ship()) + ".dbsplit_cursor"; }

std::vector<std::string> ProjectionsScenario::cliArgs(const std::vector<std::string>& args) const {
  std::vector<std::string> all = {"--plan", plan_path_, "--dsn", db_.dsn(), "--no-progress"};
  all.insert(all.end(), args.begin(), args.end());
  return all;
}

CliResult ProjectionsScenario::cli(const std::vector<std::string>& args,
                                   const std::map<std::string, std::string>& env) const {
  return runCli(cliArgs(args), env);
}

nlohmann::json ProjectionsScenario::stepStatus(const std::string& step) const {
  return stepStatusOf([this](const auto& args) { return cli(args); }, step);
}

void ProjectionsScenario::advanceToProjections() {
  advanceUntil([this](const auto& args) { return cli(args); }, "projections");
}

long ProjectionsScenario::differences() const {
  // The source's rows as text, copied to the consumer side in one statement
  // each way, so the comparison is exact SQL (EXCEPT both ways).
  const std::string cols = "id, customer, status, total, placed";
  std::string source_rows;
  {
    auto c = connect(db_.dsn());
    source_rows = c->exec("SELECT coalesce(json_agg(json_build_array(" + cols +
                          ") ORDER BY id)::text, '[]') FROM public.orders")[0][0]
                      .c_str();
  }
  auto c = connect(targetDsn());
  std::string sql =
      "WITH src AS (SELECT (a->>0)::int AS id, a->>1 AS customer, a->>2 AS status,"
      " (a->>3)::numeric(10,2) AS total, (a->>4)::date AS placed"
      " FROM json_array_elements($1::json) a),"
      " proj AS (SELECT " +
      cols + " FROM " + projection() +
      ")"
      " SELECT (SELECT count(*) FROM (SELECT * FROM src EXCEPT SELECT * FROM proj) x)"
      "      + (SELECT count(*) FROM (SELECT * FROM proj EXCEPT SELECT * FROM src) y)";
  return c->execParams(sql, source_rows)[0][0].as<long>();
}

long ProjectionsScenario::projectionRows() const {
  return std::stol(targetScalar("SELECT count(*) FROM " + projection()));
}

long ProjectionsScenario::eventsAfterBackfill() const {
  std::string snapshot = targetScalar("SELECT snapshot::text FROM " + quoteIdent(ship()) +
                                      ".dbsplit_backfill WHERE projection = '" + ship() +
                                      ".order_view' AND range_no = 0");
  return std::stol(db_.scalar("SELECT count(*) FROM " + quoteIdent(orders()) +
                              ".outbox WHERE NOT pg_visible_in_snapshot(txid, '" + snapshot +
                              "'::pg_snapshot)"));
}

long ProjectionsScenario::cursorApplied() const {
  return std::stol(targetScalar("SELECT applied FROM " + cursor()));
}

Writers::Writers(const std::string& dsn, int clients, int key_space) {
  for (int i = 0; i < clients; ++i) {
    threads_.emplace_back([this, dsn, key_space, i] {
      std::mt19937 rng(1234 + i);
      auto c = connect(dsn);
      while (!stop_) {
        try {
          pg::Transaction tx(*c);
          int n = 1 + static_cast<int>(rng() % 3);
          for (int k = 0; k < n; ++k) {
            int id = 1 + static_cast<int>(rng() % static_cast<unsigned>(key_space));
            int hot = 1 + static_cast<int>(rng() % 5);  // a few rows everyone updates
            switch (rng() % 5) {
              case 0:
                c->exec("INSERT INTO public.orders VALUES (" + std::to_string(id) +
                        ", 'w', 'new', 1, date '2026-02-02', 's') ON CONFLICT (id) DO UPDATE "
                        "SET status = 'again', total = orders.total + 1");
                break;
              case 1:
                c->exec("DELETE FROM public.orders WHERE id = " + std::to_string(id));
                break;
              case 2:
                c->exec("UPDATE public.orders SET total = total + 1, status = 'hot' WHERE id = " +
                        std::to_string(hot));
                break;
              default:
                c->exec("UPDATE public.orders SET status = 's' || " + std::to_string(rng() % 1000) +
                        ", customer = customer || 'x' WHERE id = " + std::to_string(id));
            }
          }
          tx.commit();
          ++done_;
        } catch (const std::exception&) {
          // deadlocks between writers touching the same rows: just retry
        }
      }
    });
  }
}

Writers::~Writers() { stop(); }

void Writers::stop() {
  stop_ = true;
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

}  // namespace dbsplit::test
