// Installing the outbox triggers while pgbench writes to the same tables: no
// write is lost (every history row committed after the install has its event,
// checked in one snapshot) and no pgbench transaction waits longer than the
// lock timeout plus 200 ms.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "catch2/catch.hpp"
#include "support/outbox_fixture.h"
#include "support/scenario.h"

using namespace dbsplit::test;

namespace {

const char* kBankPlan = R"TOML(
[[table]]
name = "public.pgbench_accounts"
owner = "@bank@"

[[table]]
name = "public.pgbench_tellers"
owner = "@bank@"

[[table]]
name = "public.pgbench_branches"
owner = "@bank@"

[[table]]
name = "public.pgbench_history"
owner = "@bank@"

[[event]]
table = "public.pgbench_accounts"
aggregate_type = "account"
columns = ["aid", "abalance"]

[[event]]
table = "public.pgbench_history"
aggregate_type = "transfer"
aggregate_id = ["tid", "aid"]
)TOML";

std::string pgbench(const TestDb& db, const std::string& args) {
  return pgBindir() + "/pgbench -h '" + sandboxDir() + "' -p " + std::to_string(sandboxPort()) +
         " -U postgres " + args + " " + db.name();
}

// Largest per-transaction latency (µs) in pgbench's -l logs under `dir`.
long maxLatencyMicros(const std::string& dir) {
  long worst = 0;
  for (const auto& f : std::filesystem::directory_iterator(dir)) {
    if (f.path().filename().string().rfind("pgb", 0) != 0) continue;
    std::ifstream in(f.path());
    std::string line;
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      long client = 0, tx = 0, latency = 0;
      fields >> client >> tx >> latency;
      worst = std::max(worst, latency);
    }
  }
  return worst;
}

}  // namespace

TEST_CASE("installing triggers under pgbench loses no write and stalls no writer",
          "[outbox][pg][slow]") {
  OutboxScenario s({"bank"}, "", kBankPlan);
  REQUIRE(std::system((pgbench(s.db(), "-i -s 1 -q") + " >/dev/null 2>&1").c_str()) == 0);
  s.advanceToOutbox();
  const std::string outbox = s.expand("\"@bank@\".outbox");
  const int lock_timeout_ms = 500;

  int bench_rc = -1;
  std::thread writer([&] {
    std::string cmd =
        pgbench(s.db(), "-n -c 4 -j 2 -T 7 -l --log-prefix=" + s.dir().path() + "/pgb") + " >" +
        s.dir().path() + "/pgbench.out 2>&1";
    bench_rc = std::system(cmd.c_str());
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  CliResult run = s.cli({"run", "outbox", "--lock-timeout", std::to_string(lock_timeout_ms)});
  // One snapshot: history rows and their events as of the moment after install.
  auto at_install = s.db().rows(
      "SELECT (SELECT count(*) FROM public.pgbench_history),"
      " (SELECT count(*) FROM " +
      outbox + " WHERE aggregatetype = 'transfer')");
  writer.join();
  INFO(run.out << run.err << readFile(s.dir().path() + "/pgbench.out"));
  REQUIRE(run.exit_code == 0);
  REQUIRE(bench_rc == 0);
  auto at_end = s.db().rows(
      "SELECT (SELECT count(*) FROM public.pgbench_history),"
      " (SELECT count(*) FROM " +
      outbox + " WHERE aggregatetype = 'transfer')");
  long history_after = std::stol(at_end[0][0]) - std::stol(at_install[0][0]);
  long events_after = std::stol(at_end[0][1]) - std::stol(at_install[0][1]);
  CHECK(history_after > 0);
  CHECK(events_after == history_after);
  // Every transfer event matches a history row (same teller, account, delta).
  CHECK(s.db().scalar("SELECT count(*) FROM " + outbox +
                      " o WHERE o.aggregatetype = "
                      "'transfer' AND NOT EXISTS (SELECT 1 FROM public.pgbench_history h "
                      "WHERE h.tid = (o.payload->>'tid')::int AND h.aid = "
                      "(o.payload->>'aid')::int AND h.delta = (o.payload->>'delta')::int)") == "0");
  long worst_ms = maxLatencyMicros(s.dir().path()) / 1000;
  INFO("slowest pgbench transaction: " << worst_ms << " ms");
  CHECK(worst_ms <= lock_timeout_ms + 200);
}
