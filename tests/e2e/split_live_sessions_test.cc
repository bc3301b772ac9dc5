// The split step in schema mode on a live database: sessions of the owner's
// roles opened before the step keep working with their unqualified table names
// (through the compatibility views) and sessions opened after it find the
// tables themselves; `split finalize` waits for the old sessions, then drops
// the views; pgbench holding its connections through run, a crash and resume,
// and rollback sees no failed transaction and no write longer than the lock
// timeout plus 200 ms (DESIGN §5.2).
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "catch2/catch.hpp"
#include "pg/transaction.h"
#include "support/bouncer.h"
#include "support/pgbench_log.h"
#include "support/scenario.h"
#include "support/slow_link.h"
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

// PgBouncer's RECONNECT closes a server connection still logging in at once,
// and PgBouncer 1.18 counts that as a failed login: it opens no server for
// server_login_retry (15 s) and turns away every client of a pool left with no
// server ("server login has been failing"). A slow link holds one login open
// while the split's RECONNECT runs (resumed after a crash just before it).
TEST_CASE(
    "split schema mode through PgBouncer: RECONNECT waits for a server connection still logging "
    "in, so no client is turned away by server_login_retry, and the old ones are retired",
    "[split][pg][pgbouncer]") {
  SplitScenario s({"orders"}, kSetup, kPlan, {{"orders", {"app"}}});
  const std::string db = s.db().name();
  const std::string app = s.role("app");
  SlowLink link;
  TestBouncer bouncer(db + " = host=127.0.0.1 port=" + std::to_string(link.port()) +
                      " dbname=" + db + " auth_user=postgres");
  s.setPlanExtra("[step.split]\npgbouncer = \"" + bouncer.consoleDsn() + "\"\n");
  s.advanceTo("split");

  // Three clients of the pool share one server connection, opened before the
  // step: an old session.
  auto a = connect(bouncer.dsn(db, app));
  auto b = connect(bouncer.dsn(db, app));
  auto c = connect(bouncer.dsn(db, app));
  for (auto* cl : {a.get(), b.get(), c.get()}) cl->exec("SELECT count(*) FROM orders");

  CliResult crashed =
      s.cli({"run", "split"}, {{"DBSPLIT_FAULT", "split/pgbouncer_reconnect:before"}});
  INFO(crashed.out << crashed.err);
  REQUIRE(crashed.exit_code != 0);

  // a holds the server connection in a transaction, so b's query makes
  // PgBouncer open another, which the link keeps logging in.
  a->exec("BEGIN");
  a->exec("SELECT 1");
  link.hold();
  std::string b_error;
  long long b_ms = -1;
  std::thread bq([&] {
    const auto start = std::chrono::steady_clock::now();
    try {
      b->exec("SELECT count(*) FROM orders");
    } catch (const std::exception& e) {
      b_error = e.what();
    }
    b_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                 start)
               .count();
  });
  for (int i = 0; i < 100 && bouncer.serversLoggingIn(db) == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const int logging_in = bouncer.serversLoggingIn(db);

  // The reconnect, while that login is held: once dbsplit is on the console,
  // an unguarded RECONNECT is sent within milliseconds.
  CliResult resumed;
  std::atomic<bool> done{false};
  std::thread rq([&] {
    resumed = s.cli({"resume", "--json"});
    done = true;
  });
  for (int i = 0; i < 250 && !done && bouncer.consoleClients("dbsplit/") == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  link.release();
  rq.join();

  // a's transaction ends, its server connection closes (RECONNECT), and c
  // needs a server of the pool: a new one, with the owner's search_path.
  a->exec("COMMIT");
  std::string c_error, c_schema;
  try {
    c_schema = c->exec("SELECT (current_schemas(false))[1]")[0][0].as<std::string>();
  } catch (const std::exception& e) {
    c_error = e.what();
  }
  bq.join();  // b waited for the login the link held, no longer
  std::string old_sessions;
  for (int i = 0; i < 25; ++i) {
    CliResult st = s.cli({"status", "--json"});
    const size_t at = st.out.find("\"old_sessions\":");
    old_sessions = at == std::string::npos ? "" : st.out.substr(at, 17);
    if (old_sessions == "\"old_sessions\":0,") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  INFO(resumed.out << resumed.err);
  CHECK(logging_in == 1);
  CHECK(b_error == "");
  CHECK(b_ms < 10000);  // server_login_retry would hold it 15 s
  CHECK(c_error == "");
  CHECK(resumed.exit_code == 0);
  CHECK(resumed.out.find("\"event\":\"pgbouncer_reconnect\",\"pools\":[\"" + db +
                         "\"],\"skipped\":[]}") != std::string::npos);
  CHECK(c_schema == s.service("orders"));
  CHECK(old_sessions == "\"old_sessions\":0,");
}
