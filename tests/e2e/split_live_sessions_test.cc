// The split step in schema mode on a live database: sessions of the owner's
// roles opened before the step keep working with their unqualified table names
// (through the compatibility views) and sessions opened after it find the
// tables themselves; `split finalize` waits for the old sessions, then drops
// the views; pgbench holding its connections through run, a crash and resume,
// and rollback sees no failed transaction and no write longer than the lock
// timeout plus 200 ms (DESIGN §5.2).
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "catch2/catch.hpp"
#include "pg/transaction.h"
#include "support/pgbench_log.h"
#include "support/scenario.h"
#include "support/split_fixture.h"

using namespace dbsplit::test;
namespace fs = std::filesystem;

namespace {

// The last lines of PgBouncer's log that name `db`: when pgbench failed
// through PgBouncer, they say whether it was the pooler or the server.
std::string bouncerLogAbout(const std::string& db, size_t keep = 6) {
  std::ifstream in(sandboxDir() + "/pgbouncer/pgbouncer.log");
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (line.find(db) != std::string::npos) lines.push_back(line);
  }
  std::string out;
  for (size_t i = lines.size() > keep ? lines.size() - keep : 0; i < lines.size(); ++i) {
    out += lines[i] + "\n";
  }
  return out;
}

const char* kSetup = R"SQL(
CREATE TABLE public.orders (
  id serial PRIMARY KEY,
  status text NOT NULL DEFAULT 'new',
  n int NOT NULL DEFAULT 0);
CREATE TABLE public.items (
  id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  order_id int NOT NULL,
  qty int NOT NULL CHECK (qty > 0));
INSERT INTO public.orders (status) SELECT 'seed' FROM generate_series(1, 1000);
)SQL";

const char* kPlan = R"TOML(
[[table]]
name = "public.orders"
owner = "@orders@"

[[table]]
name = "public.items"
owner = "@orders@"
)TOML";

std::string compatViews(TestDb& db) {
  return db.scalar(
      "SELECT string_agg(n.nspname || '.' || c.relname, ',' ORDER BY c.relname)"
      "  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
      " WHERE c.relkind = 'v' AND c.relname IN ('orders', 'items')");
}

}  // namespace

TEST_CASE(
    "split schema mode: sessions opened before the step keep working unqualified, new ones "
    "find the tables, finalize waits for the old ones then drops the views, rollback is exact",
    "[split][pg]") {
  SplitScenario s({"orders"}, kSetup, kPlan, {{"orders", {"app"}}});
  s.advanceTo("split");
  const std::string svc = s.service("orders");
  const std::string before = s.db().schemaDump();
  const std::string settings_before = s.roleSettings();

  auto old = connect(s.roleDsn(s.role("app")));
  old->exec("PREPARE add_order (text) AS INSERT INTO orders (status) VALUES ($1) RETURNING id");
  CHECK(old->exec("SELECT count(*) FROM orders")[0][0].as<int>() == 1000);

  CliResult run = s.cli({"run", "split"});
  INFO(run.out << run.err);
  REQUIRE(run.exit_code == 0);
  CHECK(compatViews(s.db()) == "public.items,public.orders");

  {  // the session opened before the step
    CHECK(old->exec("INSERT INTO orders (status) VALUES ('a') RETURNING id")[0][0].as<int>() ==
          1001);
    CHECK(old->exec("EXECUTE add_order('prepared')")[0][0].as<int>() == 1002);
    CHECK(
        old->exec("INSERT INTO orders (id, status) VALUES (1, 'upserted') "
                  "ON CONFLICT (id) DO UPDATE SET status = excluded.status RETURNING status")[0][0]
            .as<std::string>() == "upserted");
    CHECK(
        old->exec("INSERT INTO items (order_id, qty) VALUES (1, 2) RETURNING id")[0][0].as<int>() ==
        1);
    old->exec("UPDATE orders SET n = n + 1 WHERE id = 1");
    old->exec("DELETE FROM orders WHERE id = 2");
    {
      dbsplit::pg::Transaction tx(*old);
      CHECK(old->exec("SELECT n FROM orders WHERE id = 1 FOR UPDATE")[0][0].as<int>() == 1);
      tx.commit();
    }
    // The rows are in the moved table, written through the view.
    CHECK(s.db().scalar("SELECT count(*) FROM \"" + svc + "\".orders") == "1001");
    CHECK(s.db().scalar("SELECT status FROM \"" + svc + "\".orders WHERE id = 1002") == "prepared");
    CHECK(s.db().scalar("SELECT qty FROM \"" + svc + "\".items") == "2");
    // The documented limits: COPY FROM and TRUNCATE need a newer session.
    CHECK_THROWS(old->exec("TRUNCATE items"));
  }

  {  // a session opened after the step
    auto fresh = connect(s.roleDsn(s.role("app")));
    CHECK(fresh->exec("SELECT (current_schemas(false))[1]")[0][0].as<std::string>() == svc);
    CHECK(fresh->exec("INSERT INTO orders (status) VALUES ('b') RETURNING id")[0][0].as<int>() ==
          1003);
    auto source = s.db().session();
    {
      dbsplit::pg::Transaction tx(*fresh);
      CHECK(source->copyInto("SELECT 7, 3", *fresh, "items", "order_id, qty") == 1);
      tx.commit();
    }
    CHECK(fresh->exec("SELECT count(*) FROM items")[0][0].as<int>() == 2);
    fresh->exec("TRUNCATE items");
    CHECK(s.db().scalar("SELECT count(*) FROM \"" + svc + "\".items") == "0");
  }

  // status counts the old session; finalize names it and waits.
  CliResult st = s.cli({"status", "--json"});
  CHECK(st.out.find("\"event\":\"split_compat_views\"") != std::string::npos);
  CHECK(st.out.find("\"old_sessions\":1") != std::string::npos);
  CliResult waiting = s.cli({"split", "finalize", "--yes"});
  INFO(waiting.out << waiting.err);
  CHECK(waiting.exit_code == 3);
  CHECK((waiting.out + waiting.err).find("1 session(s) of " + s.role("app")) != std::string::npos);
  CHECK(compatViews(s.db()) == "public.items,public.orders");

  old.reset();  // the pool retires its connection
  CliResult fin;
  for (int i = 0; i < 50; ++i) {  // the backend's exit is asynchronous
    fin = s.cli({"split", "finalize", "--yes"});
    if (fin.exit_code != 3) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  INFO(fin.out << fin.err);
  REQUIRE(fin.exit_code == 0);
  CHECK(compatViews(s.db()) == "");
  auto after = connect(s.roleDsn(s.role("app")));
  CHECK(after->exec("SELECT count(*) >= 1000 FROM orders")[0][0].as<std::string>() == "t");

  // Rollback after finalize in schema mode: the views are gone, the tables go back.
  after.reset();
  CliResult rb = s.cli({"rollback", "split", "--yes"});
  INFO(rb.out << rb.err);
  REQUIRE(rb.exit_code == 0);
  CHECK(s.db().schemaDump() == before);
  CHECK(s.roleSettings() == settings_before);
}

TEST_CASE(
    "split schema mode under pgbench holding its connections: no failed transaction through run, "
    "a crash and resume, and rollback, and no write waits longer than lock timeout + 200 ms",
    "[split][pg][slow]") {
  SplitScenario s({"orders"}, kSetup, kPlan, {{"orders", {"app"}}});
  s.advanceTo("split");
  const int lock_timeout_ms = 300;
  s.dir().write("load.sql",
                "\\set k random(1, 1000)\n"
                "INSERT INTO orders (status) VALUES ('p') RETURNING id;\n"
                "INSERT INTO items (order_id, qty) VALUES (:k, 1) RETURNING id;\n"
                "UPDATE orders SET n = n + 1 WHERE id = :k;\n"
                "INSERT INTO orders (id, status) VALUES (:k, 'u') "
                "ON CONFLICT (id) DO UPDATE SET status = excluded.status;\n"
                "SELECT count(*) FROM items WHERE order_id = :k;\n");
  // Two pools as applications hold them: simple and prepared statements, each
  // with its connections open from before the step to after the rollback.
  std::vector<std::string> modes = {"simple", "prepared"};
  std::vector<int> rcs(modes.size(), -1);
  std::vector<std::thread> loads;
  for (size_t i = 0; i < modes.size(); ++i) {
    const std::string logdir = s.dir().file("log-" + modes[i]);
    fs::create_directories(logdir);
    std::ostringstream cmd;
    cmd << "'" << pgBindir() << "/pgbench' -n -c 2 -j 1 -R 100 -T 16 -M " << modes[i]
        << " --log --log-prefix='" << logdir << "/tx' -f '" << s.dir().file("load.sql") << "' -h '"
        << sandboxDir() << "' -p " << sandboxPort() << " -U '" << s.role("app") << "' "
        << s.db().name() << " > '" << s.dir().file("pgbench-" + modes[i] + ".out") << "' 2>&1";
    loads.emplace_back([&rcs, i, c = cmd.str()] { rcs[i] = std::system(c.c_str()); });
  }
  const std::string lt = std::to_string(lock_timeout_ms);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  // A crash (SIGKILL) after the first table moved, then resume.
  CliResult crashed = s.cli({"run", "split", "--lock-timeout", lt},
                            {{"DBSPLIT_FAULT", "split/move/public.orders:after"}});
  CliResult resumed = s.cli({"resume", "--lock-timeout", lt});
  std::this_thread::sleep_for(std::chrono::milliseconds(2000));
  const std::string views = compatViews(s.db());
  CliResult rb = s.cli({"rollback", "split", "--yes", "--lock-timeout", lt});
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  CliResult again = s.cli({"run", "split", "--lock-timeout", lt});
  for (auto& t : loads) t.join();
  std::string outputs;
  for (const auto& m : modes) outputs += readFile(s.dir().file("pgbench-" + m + ".out"));
  INFO(crashed.out << crashed.err << resumed.out << resumed.err << rb.out << rb.err << again.out
                   << again.err << outputs);
  CHECK(pgbenchErrors(outputs).empty());  // first: a truncated log still shows it
  CHECK(crashed.exit_code != 0);
  CHECK(resumed.exit_code == 0);
  CHECK(views == "public.items,public.orders");
  CHECK(rb.exit_code == 0);
  CHECK(again.exit_code == 0);
  for (int rc : rcs) CHECK(rc == 0);  // pgbench exits 2 when a client aborted on an error
  CHECK(outputs.find("number of failed transactions: 0 (0.000%)") != std::string::npos);
  CHECK(outputs.find("aborted") == std::string::npos);
  for (const auto& m : modes) {
    const PgbenchLog log = readPgbenchLogs(s.dir().file("log-" + m));
    const long long max_us = log.longest_us, transactions = log.transactions;
    INFO(m << ": " << transactions << " transactions, longest " << max_us / 1000 << " ms");
    CHECK(transactions > 500);
    CHECK(max_us <= (lock_timeout_ms + 200) * 1000LL);
  }
  // Every committed row is in the moved table: 1000 seeded plus one per
  // transaction's first insert (the upsert only changes rows).
  long long committed = 0;
  for (const auto& m : modes) committed += readPgbenchLogs(s.dir().file("log-" + m)).transactions;
  CHECK(s.db().scalar("SELECT count(*) FROM \"" + s.service("orders") + "\".orders") ==
        std::to_string(1000 + committed));
}

TEST_CASE(
    "split schema mode through PgBouncer in transaction pooling: no failed transaction, and its "
    "RECONNECT retires the old server connections so finalize drops the views under load",
    "[split][pg][pgbouncer][slow]") {
  SplitScenario s({"orders"}, kSetup, kPlan, {{"orders", {"app"}}});
  s.setPlanExtra("[step.split]\npgbouncer = \"" + pgbouncerConsoleDsn() + "\"\n");
  s.advanceTo("split");
  const int lock_timeout_ms = 300;
  const std::string lt = std::to_string(lock_timeout_ms);
  s.dir().write("load.sql",
                "\\set k random(1, 1000)\n"
                "INSERT INTO orders (status) VALUES ('p') RETURNING id;\n"
                "INSERT INTO items (order_id, qty) VALUES (:k, 1) RETURNING id;\n"
                "UPDATE orders SET n = n + 1 WHERE id = :k;\n");
  const std::string logdir = s.dir().file("log");
  fs::create_directories(logdir);
  std::ostringstream cmd;
  cmd << "'" << pgBindir() << "/pgbench' -n -c 4 -j 2 -R 100 -T 14 -M simple --log --log-prefix='"
      << logdir << "/tx' -f '" << s.dir().file("load.sql") << "' -h '" << sandboxDir() << "' -p "
      << pgbouncerPort() << " -U '" << s.role("app") << "' " << s.db().name() << " > '"
      << s.dir().file("pgbench.out") << "' 2>&1";
  int rc = -1;
  std::thread load([&rc, c = cmd.str()] { rc = std::system(c.c_str()); });
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));

  CliResult run = s.cli({"run", "split", "--lock-timeout", lt, "--json"});
  // The server connections PgBouncer held from before the step are retired as
  // they are released; the new ones have the new search_path.
  std::string old_sessions;
  for (int i = 0; i < 50; ++i) {
    CliResult st = s.cli({"status", "--json"});
    const size_t at = st.out.find("\"old_sessions\":");
    old_sessions = at == std::string::npos ? "" : st.out.substr(at, 17);
    if (old_sessions == "\"old_sessions\":0,") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  CliResult fin = s.cli({"split", "finalize", "--yes", "--lock-timeout", lt});
  const std::string views = compatViews(s.db());
  load.join();
  const std::string out = readFile(s.dir().file("pgbench.out"));
  INFO(run.out << run.err << fin.out << fin.err << out);
  // First, so that a truncated log still shows why pgbench failed.
  const std::string errors = pgbenchErrors(out);
  CHECK(errors + (errors.empty() ? "" : bouncerLogAbout(s.db().name())) == "");
  CHECK(run.exit_code == 0);
  CHECK(run.out.find("\"event\":\"pgbouncer_reconnect\"") != std::string::npos);
  CHECK(old_sessions == "\"old_sessions\":0,");
  CHECK(fin.exit_code == 0);
  CHECK(views.empty());
  CHECK(rc == 0);
  CHECK(out.find("number of failed transactions: 0 (0.000%)") != std::string::npos);
  const PgbenchLog log = readPgbenchLogs(logdir);
  const long long max_us = log.longest_us, transactions = log.transactions;
  INFO(transactions << " transactions, longest " << max_us / 1000 << " ms");
  CHECK(transactions > 500);
  CHECK(max_us <= (lock_timeout_ms + 200) * 1000LL);
}
