// Test support for `dbsplit compare`: a fresh database with a source table, a
// plan whose consumer projects it, and (optionally) a second database holding
// the consumer's projections. Tests create the projection tables themselves
// with SQL: compare must not care who filled them.
//
// The plan has two services, `orders` (owner of the sources) and `fulfillment`
// (the consumer, whose projections live in schema "fulfillment").
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "support/pg_test.h"

namespace dbsplit::test {

class CompareScenario {
 public:
  // `setup_sql` runs in the shared database; `plan_body` holds the [[table]]s,
  // [[event]]s and [[projection]]s. With `consumer_db`, fulfillment gets its own
  // database ([[service]] database) and `consumer_sql` runs there; without it,
  // `consumer_sql` runs in the shared database after `setup_sql`.
  CompareScenario(const std::string& setup_sql, const std::string& consumer_sql,
                  const std::string& plan_body, bool consumer_db = false);

  TestDb& db() { return db_; }
  // Where the consumer's projections live (db() unless consumer_db).
  TestDb& consumerDb() { return consumer_db_ ? *consumer_db_ : db_; }
  const TempDir& dir() const { return dir_; }
  std::string planPath() const { return dir_.file("dbsplit.toml"); }
  std::string journalPath() const { return dir_.file(".dbsplit/t.db"); }

  // dbsplit --plan P --dsn <shared db> --no-progress compare ARGS
  CliResult compare(const std::vector<std::string>& args = {}) const;
  CliResult cli(const std::vector<std::string>& args) const;

  // The bodies of the journal's compare records, oldest first.
  std::vector<nlohmann::json> records() const;

 private:
  TestDb db_;
  std::unique_ptr<TestDb> consumer_db_;
  TempDir dir_;
};

// The `difference` events of a --json compare run.
std::vector<nlohmann::json> differencesIn(const CliResult& r);

}  // namespace dbsplit::test
