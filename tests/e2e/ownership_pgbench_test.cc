// The ownership step on a busy database: while pgbench writes to the tables
// the step takes over, no pgbench transaction waits longer than the lock
// timeout plus 200 ms (DESIGN §5.2), measured from pgbench's per-transaction log.
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "catch2/catch.hpp"
#include "support/ownership_fixture.h"
#include "support/pgbench_log.h"

using namespace dbsplit::test;
namespace fs = std::filesystem;

TEST_CASE("ownership under pgbench load: no transaction waits longer than lock timeout + 200 ms",
          "[ownership][pg][slow]") {
  OwnershipScenario s;
  s.runCatalogue();
  const int lock_timeout_ms = 300;
  s.dir().write("load.sql",
                "\\set k random(1, 1000)\n"
                "INSERT INTO public.orders (status) VALUES ('p');\n"
                "INSERT INTO public.order_items (order_id, qty) VALUES (:k, 1);\n"
                "INSERT INTO public.events VALUES (:k, '2026-03-01');\n"
                "UPDATE \"Sales Dept\".\"Order \"\"Items\"\"\" SET \"Qty\" = 1 WHERE id = :k;\n");
  fs::create_directories(s.dir().file("log"));
  std::ostringstream cmd;
  cmd << "'" << pgBindir() << "/pgbench' -n -c 4 -j 2 -T 7 --log --log-prefix='"
      << s.dir().file("log/tx") << "' -f '" << s.dir().file("load.sql") << "' -h '" << sandboxDir()
      << "' -p " << sandboxPort() << " -U postgres " << s.db().name() << " > '"
      << s.dir().file("pgbench.out") << "' 2>&1";
  int pgbench_rc = -1;
  std::thread load([&] { pgbench_rc = std::system(cmd.str().c_str()); });
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  CliResult run = s.cli({"run", "ownership", "--lock-timeout", std::to_string(lock_timeout_ms)});
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  CliResult rb =
      s.cli({"rollback", "ownership", "--lock-timeout", std::to_string(lock_timeout_ms)});
  load.join();
  INFO(run.out << run.err << rb.out << rb.err << readFile(s.dir().file("pgbench.out")));
  REQUIRE(pgbench_rc == 0);
  CHECK(run.exit_code == 0);
  CHECK(rb.exit_code == 0);

  const PgbenchLog log = readPgbenchLogs(s.dir().file("log"));
  const long long max_us = log.longest_us, transactions = log.transactions;
  INFO("transactions " << transactions << ", max latency " << max_us / 1000 << " ms");
  CHECK(transactions > 100);
  CHECK(max_us <= (lock_timeout_ms + 200) * 1000LL);
}
