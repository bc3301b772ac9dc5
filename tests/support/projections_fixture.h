// Test support for the projections step and the relay: a fresh database with
// an owner's table (`@orders@` owns public.orders) and a consumer (`@ship@`)
// projecting it, optionally into the consumer's own database; a way to walk
// the migration to the projections step with the real binary; writers that
// change the source concurrently; and the exactness check (the projection
// equals SELECT cols FROM source, compared in SQL).
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "nlohmann/json.hpp"
#include "support/pg_test.h"

namespace dbsplit::test {

struct ProjectionsOptions {
  bool consumer_database = false;  // the consumer keeps its projections in its own database
  std::string consumer_dsn;        // when set: [[service]] database of the consumer (bad input)
  int rows = 200;                  // rows in public.orders at the start
  std::string extra_plan;          // appended to the plan; @ship@ stands for the consumer
};

class ProjectionsScenario {
 public:
  explicit ProjectionsScenario(ProjectionsOptions options = {});
  ~ProjectionsScenario();
  ProjectionsScenario(const ProjectionsScenario&) = delete;
  ProjectionsScenario& operator=(const ProjectionsScenario&) = delete;

  TestDb& db() { return db_; }
  const TempDir& dir() const { return dir_; }
  std::string journalPath() const { return dir_.file(".dbsplit/t.db"); }
  std::string orders() const { return db_.name() + "_orders"; }
  std::string ship() const { return db_.name() + "_ship"; }
  // Where the projection lives: the consumer database's DSN, else db().dsn().
  std::string targetDsn() const;
  std::string targetScalar(const std::string& sql) const;
  void targetExec(const std::string& sql) const;
  std::string targetDump() const;  // pg_dump --schema-only of the consumer database
  std::string projection() const;  // quoted "<ship>".order_view
  std::string cursor() const;      // quoted "<ship>".dbsplit_cursor

  CliResult cli(const std::vector<std::string>& args,
                const std::map<std::string, std::string>& env = {}) const;
  std::vector<std::string> cliArgs(const std::vector<std::string>& args) const;
  nlohmann::json stepStatus(const std::string& step) const;

  // run --next --yes until projections is next (catalogue, ownership, outbox).
  void advanceToProjections();

  // Rows of the source that the projection lacks or has different, plus rows
  // the projection has that the source lacks: 0 when exact.
  long differences() const;
  long projectionRows() const;
  // Events in the outbox whose transactions the relay had to apply (not
  // visible in the backfill snapshot), and what the cursor says it applied.
  long eventsAfterBackfill() const;
  long cursorApplied() const;

 private:
  ProjectionsOptions options_;
  TestDb db_;
  TempDir dir_;
  std::string plan_path_;
  std::string consumer_db_;  // "" unless options.consumer_database
};

// Clients that update, insert and delete rows of public.orders (updates of
// the same hot rows included) until stopped; each transaction touches a few
// rows so transactions commit out of seq order.
class Writers {
 public:
  Writers(const std::string& dsn, int clients, int key_space);
  ~Writers();
  void stop();
  long transactions() const { return done_; }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<long> done_{0};
  std::vector<std::thread> threads_;
};

}  // namespace dbsplit::test
