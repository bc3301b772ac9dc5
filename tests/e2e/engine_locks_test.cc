// Lock behaviour (DESIGN §5.1, §5.2): DDL waits at most lock_timeout, retries
// with backoff, never leaves a step half-applied, never queues the application
// behind it for longer than the lock timeout; one run per migration.
#include <atomic>
#include <chrono>
#include <thread>

#include "catch2/catch.hpp"
#include "engine/run_lock.h"
#include "support/ownership_fixture.h"
#include "support/scenario.h"

using namespace dbsplit::test;
using namespace std::chrono_literals;

namespace {

const char* kOneColumn = "[step.selftest]\nkinds = [\"column\"]\n";

bool runLockHeld(TestDb& db) {
  return db.scalar(
             "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
             " AND database = (SELECT oid FROM pg_database WHERE datname = '" +
             db.name() + "')") != "0";
}

template <typename Pred>
bool waitFor(Pred pred, std::chrono::milliseconds limit) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return pred();
}

}  // namespace

TEST_CASE(
    "a DDL action meeting a held lock retries with backoff and succeeds once it is "
    "released",
    "[engine][locks][pg]") {
  Scenario s("CREATE TABLE public.t (id int PRIMARY KEY);", {"public.t"}, kOneColumn);
  auto holder = connect(s.db().dsn());
  pg::Transaction tx(*holder);
  holder->exec("LOCK TABLE public.t IN ACCESS EXCLUSIVE MODE");

  BackgroundCli run(
      s.cliArgs({"run", "selftest", "--json", "--lock-timeout", "200", "--lock-retries", "30"}),
      s.cliEnv({}));
  std::this_thread::sleep_for(1500ms);
  tx.commit();
  CliResult r = run.wait();
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  auto retries = eventsOf(jsonLines(r.out), "retry");
  REQUIRE(!retries.empty());
  CHECK(retries[0]["sqlstate"] == "55P03");
  CHECK(retries[0]["action"] == "selftest/column/public.t");
  CHECK(retries[0]["attempt"] == 2);
  CHECK(s.db().scalar("SELECT count(*) FROM pg_attribute WHERE attrelid = 'public.t'::regclass"
                      " AND attname = 'dbsplit_selftest'") == "1");
}

TEST_CASE(
    "a lock never released fails the step after the bound, half of nothing applied, "
    "and readers never wait longer than the lock timeout",
    "[engine][locks][pg]") {
  Scenario s(
      "CREATE TABLE public.a (id int PRIMARY KEY);"
      "CREATE TABLE public.b (id int PRIMARY KEY);"
      "INSERT INTO public.b VALUES (1);",
      {"public.a", "public.b"}, kOneColumn);
  const std::string before = s.db().schemaDump();
  // An open transaction that read b: harmless to readers, fatal to ALTER TABLE.
  auto holder = connect(s.db().dsn());
  pg::Transaction tx(*holder);
  holder->exec("SELECT * FROM public.b");

  std::atomic<bool> done{false};
  std::atomic<long> worst_ms{0};
  std::atomic<int> reads{0};
  std::thread reader([&] {
    auto c = connect(s.db().dsn());
    while (!done) {
      auto t0 = std::chrono::steady_clock::now();
      c->exec("SELECT count(*) FROM public.b");
      long ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::steady_clock::now() - t0)
                    .count();
      worst_ms = std::max(worst_ms.load(), ms);
      ++reads;
      std::this_thread::sleep_for(20ms);
    }
  });
  CliResult r =
      s.cli({"run", "selftest", "--json", "--lock-timeout", "200", "--lock-retries", "4"});
  done = true;
  reader.join();
  tx.rollback();
  INFO(r.out << r.err);
  CHECK(r.exit_code == 1);
  CHECK(eventsOf(jsonLines(r.out), "retry").size() == 3);
  auto err = eventsOf(jsonLines(r.out), "error");
  REQUIRE(err.size() == 1);
  CHECK(err[0]["kind"] == "lock_timeout");
  CHECK(err[0]["hint"].get<std::string>().find("rolled back") != std::string::npos);
  // public.a's column was applied, then undone: nothing is half-applied.
  CHECK(s.db().schemaDump() == before);
  CHECK(reads > 5);
  CHECK(worst_ms < 200 + 250);  // lock_timeout plus scheduling slack on a busy 2-core box
  for (const auto& ev : eventsOf(jsonLines(s.cli({"status", "--json"}).out), "step")) {
    if (ev["step"] != "selftest") continue;  // the playbook steps were never run
    CHECK(ev["status"] == "failed");
    CHECK(ev["actions_applied"] == 0);
  }
}

TEST_CASE("a second concurrent run exits 4 naming the first, and after kill -9 the lock is free",
          "[engine][locks][pg]") {
  Scenario s("CREATE TABLE public.t (id int PRIMARY KEY);", {"public.t"}, kOneColumn);
  // Keep the first run busy: it waits for a lock that an open reader holds.
  auto holder = connect(s.db().dsn());
  pg::Transaction tx(*holder);
  holder->exec("SELECT * FROM public.t");
  BackgroundCli first(
      s.cliArgs({"run", "selftest", "--lock-timeout", "300", "--lock-retries", "1000"}),
      s.cliEnv({}));
  REQUIRE(waitFor([&] { return runLockHeld(s.db()); }, 10000ms));

  CliResult second = s.cli({"run", "selftest"});
  INFO(second.out << second.err);
  CHECK(second.exit_code == 4);
  CHECK(second.err.find("dbsplit/t/selftest") != std::string::npos);
  CHECK(second.err.find("dbsplit pid " + std::to_string(first.pid())) != std::string::npos);

  first.kill9();
  CHECK(waitFor([&] { return !runLockHeld(s.db()); }, 5000ms));
  tx.rollback();
  CliResult resume = s.cli({"resume"});
  INFO(resume.out << resume.err);
  CHECK(resume.exit_code == 0);
  CHECK(s.db().scalar("SELECT count(*) FROM pg_attribute WHERE attrelid = 'public.t'::regclass"
                      " AND attname = 'dbsplit_selftest'") == "1");
}

TEST_CASE("rollback takes the run lock before it looks at the step order",
          "[engine][locks][security][pg]") {
  OwnershipScenario s;
  s.runCatalogue();
  REQUIRE(s.cli({"run", "ownership", "--yes"}).exit_code == 0);
  // Another run holds the migration's lock (the advisory lock a dbsplit run takes).
  auto holder = connect(s.db().dsn());
  const dbsplit::engine::LockKey key = dbsplit::engine::lockKeyFor("t");
  holder->exec("SELECT pg_advisory_lock(" + std::to_string(key.classid) + ", " +
               std::to_string(key.objid) + ")");
  // The order alone refuses this (ownership is applied after catalogue, exit
  // 3): read without the lock, it could change under the rollback.
  CliResult r = s.cli({"rollback", "catalogue", "--yes"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 4);
  CHECK(r.err.find("cannot roll back catalogue while ownership") == std::string::npos);
}
