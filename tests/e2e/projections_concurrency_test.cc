// Concurrent writers during the backfill and the relay, with kill -9 of both
// at random points: after restarting, the projection equals the source
// exactly (compared in SQL) and the cursor counts every event it had to apply
// once (no duplicate application).
#include <chrono>
#include <random>
#include <thread>

#include "catch2/catch.hpp"
#include "support/projections_fixture.h"
#include "support/scenario.h"

using namespace dbsplit::test;

namespace {

// Starts the projections step (or resumes it after a kill) in the background.
std::unique_ptr<BackgroundCli> startStep(const ProjectionsScenario& s,
                                         const std::map<std::string, std::string>& env) {
  nlohmann::json st = s.stepStatus("projections");
  std::vector<std::string> args = st["status"] == "applying"
                                      ? std::vector<std::string>{"resume"}
                                      : std::vector<std::string>{"run", "projections"};
  return std::make_unique<BackgroundCli>(s.cliArgs(args), env);
}

void check(ProjectionsScenario& s) {
  CliResult last = s.cli({"relay", "--once"});
  INFO(last.out << last.err);
  REQUIRE(last.exit_code == 0);
  CHECK(s.differences() == 0);
  CHECK(s.projectionRows() == std::stol(s.db().scalar("SELECT count(*) FROM public.orders")));
  CHECK(s.cursorApplied() == s.eventsAfterBackfill());
}

void killRandomly(ProjectionsScenario& s, ProjectionsOptions options, std::mt19937& rng) {
  (void)options;
  const std::map<std::string, std::string> env = {{"DBSPLIT_BACKFILL_CHUNK_ROWS", "150"}};
  Writers writers(s.db().dsn(), 3, 2500);
  // The step (backfill in ranges of 150 rows, then the first catch-up),
  // killed at random points, then resumed until it is applied.
  for (int i = 0; i < 4 && s.stepStatus("projections")["status"] != "applied"; ++i) {
    auto step = startStep(s, env);
    std::this_thread::sleep_for(std::chrono::milliseconds(100 + rng() % 500));
    step->kill9();
    step->wait();
  }
  for (int i = 0; i < 5 && s.stepStatus("projections")["status"] != "applied"; ++i) {
    auto step = startStep(s, env);
    CliResult r = step->wait();
    INFO(r.out << r.err);
    CHECK(r.exit_code == 0);
  }
  REQUIRE(s.stepStatus("projections")["status"] == "applied");
  // The relay, killed mid-batch at random points while the writers go on.
  for (int i = 0; i < 5; ++i) {
    BackgroundCli relay(
        s.cliArgs({"relay", "--batch", std::to_string(5 + rng() % 50), "--poll-ms", "10"}));
    std::this_thread::sleep_for(std::chrono::milliseconds(100 + rng() % 400));
    relay.kill9();
    relay.wait();
  }
  REQUIRE(writers.transactions() > 0);
  writers.stop();
}

}  // namespace

TEST_CASE("writers during backfill and relay, both killed at random points: exact projection",
          "[projections][relay][pg][slow]") {
  ProjectionsOptions options;
  options.rows = 2000;
  ProjectionsScenario s(options);
  s.advanceToProjections();
  std::mt19937 rng(static_cast<unsigned>(std::random_device{}()));
  killRandomly(s, options, rng);
  check(s);
}

TEST_CASE("a projection in the consumer's own database keeps the same guarantees",
          "[projections][relay][pg][slow]") {
  ProjectionsOptions options;
  options.rows = 1500;
  options.consumer_database = true;
  ProjectionsScenario s(options);
  s.advanceToProjections();
  const std::string before = s.targetDump();
  std::mt19937 rng(static_cast<unsigned>(std::random_device{}()));
  killRandomly(s, options, rng);
  check(s);
  // Outbox retention reads the cursor in the consumer's database: it deletes
  // exactly the events below the low watermark, and the relay goes on.
  const std::string outbox = "\"" + s.orders() + "\".outbox";
  const std::string below = s.db().scalar("SELECT count(*) FROM " + outbox + " WHERE seq < " +
                                          s.targetScalar("SELECT seq FROM " + s.cursor()));
  CliResult prune = s.cli({"outbox", "prune", "--older-than", "1ms", "--json"});
  INFO(prune.out << prune.err);
  REQUIRE(prune.exit_code == 0);
  CHECK(std::stol(below) > 0);
  CHECK(eventsOf(jsonLines(prune.out), "prune").at(0)["deleted"] == std::stol(below));
  s.db().exec("UPDATE public.orders SET status = 'pruned' WHERE id % 7 = 0");
  REQUIRE(s.cli({"relay", "--once"}).exit_code == 0);
  CHECK(s.differences() == 0);
  // Projection, cursors and the schema live in the consumer's database only.
  CHECK(s.db().scalar("SELECT count(*) FROM pg_tables WHERE tablename = 'order_view'") == "0");
  CHECK(s.targetScalar("SELECT count(*) FROM pg_tables WHERE tablename = 'order_view'") == "1");
  CliResult rb = s.cli({"rollback", "projections", "--yes"});
  INFO(rb.out << rb.err);
  REQUIRE(rb.exit_code == 0);
  CHECK(s.targetDump() == before);
}
