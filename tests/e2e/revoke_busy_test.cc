// The revoke step while the services are busy: a consumer transaction that
// has read the owner's table and an owner transaction that has written it stay
// open, and both services keep querying. GRANT and REVOKE change catalog rows
// only, so the run needs no retry and no query waits as long as the lock
// timeout (plus 200 ms for a loaded machine); the consumer's next statement,
// even inside its open transaction, fails with 42501.

#include <atomic>
#include <chrono>
#include <thread>

#include "catch2/catch.hpp"
#include "sql/quote.h"
#include "support/revoke_fixture.h"
#include "support/scenario.h"

using namespace dbsplit::test;

TEST_CASE("revoke and its rollback block no busy session for as long as the lock timeout",
          "[revoke][pg][slow]") {
  RevokeScenario r;
  r.advanceToRevoke();
  r.waitWindow();
  const int lock_timeout_ms = 300;
  const std::string ful_app = r.role("ful_app"), orders_app = r.role("orders_app");

  auto reader = connect(r.db().dsn());
  pg::Transaction read_tx(*reader);
  reader->exec("SET ROLE " + dbsplit::sql::quoteIdent(ful_app));
  reader->exec("SELECT count(*) FROM public.orders");
  auto writer = connect(r.db().dsn());
  pg::Transaction write_tx(*writer);
  writer->exec("SET ROLE " + dbsplit::sql::quoteIdent(orders_app));
  writer->exec("INSERT INTO public.order_items (order_id, qty) VALUES (1, 1)");
  writer->exec("UPDATE public.orders SET status = 'busy'");

  std::atomic<bool> stop{false};
  std::atomic<long long> max_ms{0}, queries{0};
  auto load = [&](const std::string& role, const std::string& sql) {
    auto c = connect(r.db().dsn());
    c->exec("SET ROLE " + dbsplit::sql::quoteIdent(role));
    while (!stop) {
      auto start = std::chrono::steady_clock::now();
      c->exec(sql);
      long long ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::steady_clock::now() - start)
                         .count();
      if (ms > max_ms) max_ms = ms;
      ++queries;
    }
  };
  std::thread owner_load(load, orders_app, "SELECT count(*) FROM public.orders");
  std::thread consumer_load(load, ful_app,
                            "SELECT count(*) FROM \"" + r.consumer() + "\".order_copy");

  CliResult run = r.cli(
      {"run", "revoke", "--yes", "--json", "--lock-timeout", std::to_string(lock_timeout_ms)});
  std::string after_revoke;
  try {
    reader->exec("SELECT count(*) FROM public.orders");
  } catch (const dbsplit::Error& e) {
    after_revoke = e.sqlstate();
  }
  CliResult rb =
      r.cli({"rollback", "revoke", "--json", "--lock-timeout", std::to_string(lock_timeout_ms)});
  stop = true;
  owner_load.join();
  consumer_load.join();
  write_tx.commit();

  INFO(run.out << run.err << rb.out << rb.err);
  CHECK(run.exit_code == 0);
  CHECK(rb.exit_code == 0);
  CHECK(eventsOf(jsonLines(run.out), "retry").empty());
  CHECK(eventsOf(jsonLines(rb.out), "retry").empty());
  CHECK(after_revoke == "42501");
  CHECK(queries > 10);
  // Had the step queued behind the open transactions (or they behind it), the
  // run would have retried; the margin absorbs a loaded CI machine, as in the
  // ownership step's pgbench test.
  CHECK(max_ms < lock_timeout_ms + 200);
}
