// The relay's batching against real PostgreSQL: a transaction that commits
// late with a smaller seq is applied (once), the relay stops cleanly on
// SIGTERM, a second relay of the same consumer is refused, and `status`
// reports the lag.
#include <signal.h>

#include <chrono>
#include <thread>

#include "catch2/catch.hpp"
#include "support/projections_fixture.h"
#include "support/scenario.h"

using namespace dbsplit::test;

namespace {

long latestSeq(dbsplit::pg::Session& s, const std::string& outbox) {
  return s.exec("SELECT max(seq) FROM " + outbox)[0][0].as<long>();
}

nlohmann::json lagOf(const ProjectionsScenario& s) {
  CliResult r = s.cli({"status", "--json"});
  auto lags = eventsOf(jsonLines(r.out), "relay_lag");
  return lags.empty() ? nlohmann::json() : lags.front();
}

// Waits until a background relay holds the relay lock (without competing for it).
void waitForRelayLock(ProjectionsScenario& s) {
  for (int i = 0; i < 200; ++i) {
    // This consumer's relay lock (COMMON contract key), in this database.
    if (s.db().scalar("SELECT count(*) FROM pg_locks l"
                      " WHERE l.locktype = 'advisory' AND l.granted"
                      "   AND l.database = (SELECT oid FROM pg_database"
                      "                      WHERE datname = current_database())"
                      "   AND l.objid = (hashtext('dbsplit/relay/t/" +
                      s.ship() + "')::bigint & 4294967295)::oid") != "0") {
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  FAIL("the background relay never took its lock");
}

}  // namespace

TEST_CASE("a transaction that commits late with a smaller seq is applied once",
          "[relay][projections][pg]") {
  ProjectionsScenario s;
  s.advanceToProjections();
  CliResult run = s.cli({"run", "projections"});
  INFO(run.out << run.err);
  REQUIRE(run.exit_code == 0);
  REQUIRE(s.differences() == 0);
  const std::string outbox = "\"" + s.orders() + "\".outbox";

  auto c1 = connect(s.db().dsn());
  auto c2 = connect(s.db().dsn());
  pg::Transaction t1(*c1);
  c1->exec("UPDATE public.orders SET status = 't1' WHERE id = 1");
  long seq1 = latestSeq(*c1, outbox);
  long seq2 = 0;
  {
    pg::Transaction t2(*c2);
    c2->exec("UPDATE public.orders SET status = 't2' WHERE id = 2");
    seq2 = latestSeq(*c2, outbox);
    t2.commit();
  }
  REQUIRE(seq1 < seq2);

  CliResult first = s.cli({"relay", "--once"});
  INFO(first.out << first.err);
  REQUIRE(first.exit_code == 0);
  CHECK(s.targetScalar("SELECT status FROM " + s.projection() + " WHERE id = 2") == "t2");
  CHECK(s.targetScalar("SELECT status FROM " + s.projection() + " WHERE id = 1") == "new");
  // The low watermark stays at or below the open transaction's seq.
  CHECK(std::stol(s.targetScalar("SELECT seq FROM " + s.cursor())) <= seq1);

  t1.commit();
  CliResult second = s.cli({"relay", "--once"});
  INFO(second.out << second.err);
  REQUIRE(second.exit_code == 0);
  CHECK(s.targetScalar("SELECT status FROM " + s.projection() + " WHERE id = 1") == "t1");
  CHECK(s.differences() == 0);
  CHECK(s.cursorApplied() == 2);
  CHECK(s.eventsAfterBackfill() == 2);

  // More runs apply nothing twice, and the watermark moves past both.
  for (int i = 0; i < 3; ++i) REQUIRE(s.cli({"relay", "--once"}).exit_code == 0);
  CHECK(s.cursorApplied() == 2);
  CHECK(std::stol(s.targetScalar("SELECT seq FROM " + s.cursor())) > seq2);
}

TEST_CASE("batches of whole transactions keep each row's order", "[relay][projections][pg]") {
  ProjectionsScenario s;
  s.advanceToProjections();
  REQUIRE(s.cli({"run", "projections"}).exit_code == 0);
  // Many small transactions updating the same rows, then one relay run in
  // batches of 3 events: the cuts fall between transactions.
  for (int i = 0; i < 40; ++i) {
    s.db().exec("BEGIN; UPDATE public.orders SET total = total + 1, status = 'v" +
                std::to_string(i) + "' WHERE id IN (1, 2); DELETE FROM public.orders WHERE id = " +
                std::to_string(100 + i) + "; INSERT INTO public.orders VALUES (" +
                std::to_string(1000 + i) + ", 'n', 'x', 1, NULL, 's'); COMMIT;");
  }
  CHECK(lagOf(s)["events"] == 160);
  CliResult r = s.cli({"relay", "--once", "--batch", "3", "--json"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  auto batches = eventsOf(jsonLines(r.out), "relay_batch");
  CHECK(batches.size() >= 40);
  for (const auto& b : batches) CHECK(b["events"].get<int>() == 4);  // one transaction each
  CHECK(s.differences() == 0);
  CHECK(s.cursorApplied() == s.eventsAfterBackfill());
  CHECK(lagOf(s)["events"] == 0);
}

TEST_CASE("a source row whose key changes leaves no row under the old key",
          "[relay][projections][pg]") {
  for (bool consumer_database : {false, true}) {
    INFO("consumer database: " << consumer_database);
    ProjectionsOptions options;
    options.consumer_database = consumer_database;
    ProjectionsScenario s(options);
    s.advanceToProjections();
    REQUIRE(s.cli({"run", "projections"}).exit_code == 0);
    // A key moved, a key moved twice in one transaction, and keys swapped
    // through a free one.
    s.db().exec("UPDATE public.orders SET id = 5000 WHERE id = 3");
    s.db().exec(
        "BEGIN; UPDATE public.orders SET id = 5001 WHERE id = 4;"
        " UPDATE public.orders SET id = 5002, status = 'moved' WHERE id = 5001; COMMIT;");
    s.db().exec(
        "BEGIN; UPDATE public.orders SET id = 6000 WHERE id = 7;"
        " UPDATE public.orders SET id = 7 WHERE id = 8;"
        " UPDATE public.orders SET id = 8 WHERE id = 6000; COMMIT;");
    CliResult r = s.cli({"relay", "--once"});
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(s.differences() == 0);
    CHECK(s.projectionRows() == std::stol(s.db().scalar("SELECT count(*) FROM public.orders")));
  }
}

TEST_CASE("one relay per consumer, and SIGTERM stops it cleanly", "[relay][projections][pg]") {
  ProjectionsScenario s;
  s.advanceToProjections();
  REQUIRE(s.cli({"run", "projections"}).exit_code == 0);
  BackgroundCli relay(s.cliArgs({"relay", "--poll-ms", "20"}));
  waitForRelayLock(s);
  CliResult second = s.cli({"relay", "--once"});
  INFO(second.out << second.err);
  CHECK(second.exit_code == 4);
  CHECK(second.err.find("another relay") != std::string::npos);
  s.db().exec("UPDATE public.orders SET status = 'live' WHERE id < 50");
  for (int i = 0; i < 100 && s.differences() != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  CHECK(s.differences() == 0);
  ::kill(relay.pid(), SIGTERM);
  CliResult stopped = relay.wait();
  INFO(stopped.out << stopped.err);
  CHECK(stopped.exit_code == 0);
  CHECK(stopped.out.find("relay stopped (signal)") != std::string::npos);
  // The lock went with it.
  CHECK(s.cli({"relay", "--once"}).exit_code == 0);
}

TEST_CASE("a running relay looks again soon after applying events, not a whole --poll-ms later",
          "[relay][projections][pg]") {
  ProjectionsScenario s;
  s.advanceToProjections();
  REQUIRE(s.cli({"run", "projections"}).exit_code == 0);
  // A long idle pause: a relay that slept it after every batch would leave
  // each of the changes below about 5 s behind.
  BackgroundCli relay(s.cliArgs({"relay", "--poll-ms", "5000"}));
  waitForRelayLock(s);
  using Clock = std::chrono::steady_clock;
  auto visibleAfter = [&](int id, const std::string& status) {
    s.db().exec("UPDATE public.orders SET status = '" + status +
                "' WHERE id = " + std::to_string(id));
    auto start = Clock::now();
    while (s.targetScalar("SELECT count(*) FROM " + s.projection() + " WHERE id = " +
                          std::to_string(id) + " AND status = '" + status + "'") != "1" &&
           Clock::now() - start < std::chrono::seconds(20)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
  };
  // The first change may wait out an idle pause; the next ones come while
  // the relay is still looking often.
  CHECK(visibleAfter(1, "fresh-0") < 10000);
  for (int i = 1; i <= 5; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    long ms = visibleAfter(1 + i, "fresh-" + std::to_string(i));
    INFO("change " << i << " became visible after " << ms << " ms");
    CHECK(ms < 1500);
  }
  ::kill(relay.pid(), SIGTERM);
  CliResult stopped = relay.wait();
  INFO(stopped.out << stopped.err);
  CHECK(stopped.exit_code == 0);
  CHECK(s.differences() == 0);
}

TEST_CASE("the relay reconnects after losing its connections", "[relay][projections][pg]") {
  ProjectionsScenario s;
  s.advanceToProjections();
  REQUIRE(s.cli({"run", "projections"}).exit_code == 0);
  BackgroundCli relay(s.cliArgs({"relay", "--poll-ms", "20"}));
  waitForRelayLock(s);
  REQUIRE(s.db().scalar("SELECT count(*) FROM pg_stat_activity WHERE application_name = "
                        "'dbsplit/t/relay'") != "0");
  s.db().exec(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = "
      "'dbsplit/t/relay' AND datname = current_database()");
  s.db().exec("UPDATE public.orders SET status = 'after' WHERE id % 3 = 0");
  for (int i = 0; i < 200 && s.differences() != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  CHECK(s.differences() == 0);
  ::kill(relay.pid(), SIGTERM);
  CliResult stopped = relay.wait();
  INFO(stopped.out << stopped.err);
  CHECK(stopped.exit_code == 0);
  CHECK(stopped.err.find("reconnecting") != std::string::npos);
  CHECK(s.cursorApplied() == s.eventsAfterBackfill());
}
