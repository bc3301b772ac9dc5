// dbsplit compare while the data moves: a simulated relay (a test thread that
// writes to the source, then applies the same change to the projection and
// advances the consumer's cursor per the relay contract, holding the relay's
// advisory lock) keeps the projection a little behind. compare must report no
// difference: what it sees while the relay is behind is re-checked after the
// relay has caught up.
#include <atomic>
#include <chrono>
#include <random>
#include <thread>

#include "catch2/catch.hpp"
#include "support/compare_fixture.h"
#include "support/scenario.h"

using namespace dbsplit::test;

namespace {

constexpr int kRows = 2000;

const std::string kSource =
    "CREATE TABLE public.items (id bigint PRIMARY KEY, qty int NOT NULL, note text);\n"
    "INSERT INTO public.items SELECT g, g % 50, 'n' || g FROM generate_series(1, " +
    std::to_string(kRows) + ") g;\n";

const std::string kProjection =
    "CREATE SCHEMA fulfillment;\n"
    "CREATE TABLE fulfillment.item_view (id bigint PRIMARY KEY, qty int, note text);\n"
    "INSERT INTO fulfillment.item_view SELECT g, g % 50, 'n' || g FROM generate_series(1, " +
    std::to_string(kRows) +
    ") g;\n"
    // The relay cursor, exactly as the contract has it.
    "CREATE TABLE fulfillment.dbsplit_cursor (outbox text PRIMARY KEY, seq bigint NOT NULL,\n"
    "  snapshot pg_snapshot NOT NULL, applied bigint NOT NULL DEFAULT 0,\n"
    "  updated_at timestamptz NOT NULL DEFAULT now());\n";

const char* kPlan = R"TOML(
[[table]]
name = "public.items"
owner = "orders"

[[event]]
table = "public.items"
aggregate_type = "item"

[[projection]]
consumer = "fulfillment"
source = "public.items"
name = "item_view"
columns = ["id", "qty", "note"]
key = ["id"]
)TOML";

// One writer and its relay: each change is written to the source, then after a
// lag applied to the projection together with the cursor, whose snapshot is
// the source snapshot taken right after the change committed (so every
// transaction visible in it is applied).
class SimulatedRelay {
 public:
  SimulatedRelay(const std::string& source_dsn, const std::string& consumer_dsn,
                 std::chrono::milliseconds first_lag)
      : source_(connect(source_dsn)),
        consumer_(connect(consumer_dsn)),
        lock_(connect(source_dsn)),
        first_lag_(first_lag) {
    lock_->exec("SELECT pg_advisory_lock(hashtext('dbsplit/relay/t/fulfillment')::bigint)");
    consumer_->exec(
        "INSERT INTO fulfillment.dbsplit_cursor (outbox, seq, snapshot) VALUES "
        "('orders.outbox', 0, '" +
        source_->exec("SELECT pg_current_snapshot()::text")[0][0].as<std::string>() + "')");
    thread_ = std::thread([this] { loop(); });
  }
  ~SimulatedRelay() { stop(); }

  void waitForFirstWrite() {
    while (!first_written_) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int changes() const { return changes_; }
  const std::string& failure() const { return failure_; }

 private:
  void loop() {
    try {
      std::mt19937 rng(42);
      bool first = true;
      while (!stop_) {
        int id = 1 + static_cast<int>(rng() % (kRows + 200));
        int op = static_cast<int>(rng() % 10);
        pg::Result row;
        {
          pg::Transaction tx(*source_);
          if (op < 7) {
            row = source_->execParams(
                "UPDATE public.items SET qty = qty + 1, note = note || '+' WHERE id = $1 "
                "RETURNING id, qty, note",
                id);
          } else if (op < 9) {
            row = source_->execParams(
                "INSERT INTO public.items VALUES ($1, 1, 'new') ON CONFLICT (id) DO UPDATE "
                "SET qty = 0 RETURNING id, qty, note",
                id);
          } else {
            source_->execParams("DELETE FROM public.items WHERE id = $1", id);
          }
          tx.commit();
        }
        std::string snapshot = source_->exec("SELECT pg_current_snapshot()::text")[0][0].c_str();
        if (first) first_written_ = true;
        std::this_thread::sleep_for(first ? first_lag_ : std::chrono::milliseconds(rng() % 30));
        first = false;
        pg::Transaction tx(*consumer_);
        consumer_->execParams("DELETE FROM fulfillment.item_view WHERE id = $1", id);
        if (!row.empty()) {
          consumer_->execParams("INSERT INTO fulfillment.item_view VALUES ($1, $2, $3)",
                                row[0][0].c_str(), row[0][1].c_str(), row[0][2].c_str());
        }
        consumer_->execParams(
            "UPDATE fulfillment.dbsplit_cursor SET seq = seq + 1, snapshot = $1::pg_snapshot, "
            "applied = applied + 1, updated_at = now() WHERE outbox = 'orders.outbox'",
            snapshot);
        tx.commit();
        ++changes_;
      }
    } catch (const std::exception& e) {
      failure_ = e.what();
      first_written_ = true;
    }
  }

  std::unique_ptr<dbsplit::pg::Session> source_;
  std::unique_ptr<dbsplit::pg::Session> consumer_;
  std::unique_ptr<dbsplit::pg::Session> lock_;  // holds the relay's advisory lock, as a relay does
  std::chrono::milliseconds first_lag_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> first_written_{false};
  std::atomic<int> changes_{0};
  std::string failure_;
};

void compareWhileMoving(bool consumer_db, const std::vector<std::string>& extra) {
  CompareScenario s(kSource, kProjection, kPlan, consumer_db);
  // The first change stays unapplied long enough for compare to see it.
  SimulatedRelay relay(s.db().dsn(), s.consumerDb().dsn(), std::chrono::milliseconds(1500));
  relay.waitForFirstWrite();
  std::vector<std::string> args = {"--json", "--settle-timeout", "30s"};
  args.insert(args.end(), extra.begin(), extra.end());
  CliResult r = s.compare(args);
  int during = relay.changes();
  relay.stop();
  INFO(r.out << r.err);
  REQUIRE(relay.failure().empty());
  CHECK(r.exit_code == 0);
  CHECK(differencesIn(r).empty());
  // It did see the change the relay had not applied yet, and re-checked it.
  CHECK(!eventsOf(jsonLines(r.out), "compare_recheck").empty());
  CHECK(during > 0);
  auto rec = s.records().back();
  CHECK(rec["clean"] == true);
  CHECK(!rec.contains("notes"));
}

}  // namespace

TEST_CASE("compare under concurrent writes with the relay running reports no false difference",
          "[compare][pg]") {
  SECTION("one chunk") { compareWhileMoving(false, {}); }
  SECTION("bisected") {
    compareWhileMoving(false, {"--bisection-threshold", "30", "--bisection-factor", "4"});
  }
  SECTION("across databases") { compareWhileMoving(true, {"--bisection-threshold", "100"}); }
}

TEST_CASE("a difference that the relay never applies is reported once it has caught up",
          "[compare][pg]") {
  CompareScenario s(kSource, kProjection, kPlan);
  SimulatedRelay relay(s.db().dsn(), s.consumerDb().dsn(), std::chrono::milliseconds(10));
  relay.waitForFirstWrite();
  // A change the relay knows nothing of: a real, persistent difference.
  s.consumerDb().exec("INSERT INTO fulfillment.item_view VALUES (5000, 1, 'stray')");
  CliResult r = s.compare({"--json", "--settle-timeout", "30s", "--retries", "2"});
  relay.stop();
  INFO(r.out << r.err);
  REQUIRE(relay.failure().empty());
  CHECK(r.exit_code == 3);
  auto diffs = differencesIn(r);
  REQUIRE(diffs.size() == 1);
  CHECK(diffs[0]["kind"] == "extra");
  CHECK(diffs[0]["key"] == nlohmann::json{{"id", 5000}});
  CHECK(eventsOf(jsonLines(r.out), "compare_recheck").size() == 2);
}

TEST_CASE("a relay that is behind and not running is named, and differences are reported",
          "[compare][pg]") {
  CompareScenario s(kSource, kProjection, kPlan);
  // A cursor from long ago, and no process holding the relay's lock.
  s.consumerDb().exec(
      "INSERT INTO fulfillment.dbsplit_cursor (outbox, seq, snapshot) VALUES "
      "('orders.outbox', 0, '3:3:')");
  s.db().exec("UPDATE public.items SET qty = -1 WHERE id = 42");
  CliResult r = s.compare({"--json", "--settle-timeout", "60s"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 3);
  auto diffs = differencesIn(r);
  REQUIRE(diffs.size() == 1);
  CHECK(diffs[0]["key"] == nlohmann::json{{"id", 42}});
  auto rec = s.records().back();
  REQUIRE(rec.contains("notes"));
  CHECK(rec["notes"][0].get<std::string>().find("is behind and not running") != std::string::npos);
}
