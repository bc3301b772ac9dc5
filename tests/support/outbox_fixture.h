// Test support for the outbox step: a fresh database with tables, a plan file
// whose services carry the database name (`ownership` makes a group role per
// service and roles are cluster-wide), and a way to advance the migration to
// the outbox step (catalogue, ownership) with the real binary. In setup SQL and
// plan text, `@name@` stands for the service `name`'s real name.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "support/pg_test.h"

namespace dbsplit::test {

struct OutboxEvent {
  std::string type;
  std::string aggregateid;  // "" for NULL
  nlohmann::json payload;   // null for NULL
  std::string op;
  std::string source_table;
};

class OutboxScenario {
 public:
  // `services`: base names (e.g. "orders"). The plan gets [migration] (name "t") and one
  // [[service]] per base name with `roles` = roles[base] if given; `plan_body`
  // holds the [[table]]s and [[event]]s.
  OutboxScenario(const std::vector<std::string>& services, const std::string& setup_sql,
                 const std::string& plan_body,
                 const std::map<std::string, std::vector<std::string>>& roles = {});
  ~OutboxScenario();
  OutboxScenario(const OutboxScenario&) = delete;
  OutboxScenario& operator=(const OutboxScenario&) = delete;

  TestDb& db() { return db_; }
  const TempDir& dir() const { return dir_; }
  std::string journalPath() const { return dir_.file(".dbsplit/t.db"); }
  std::string service(const std::string& base) const { return db_.name() + "_" + base; }
  // Replaces every @base@ by service(base).
  std::string expand(const std::string& text) const;

  CliResult cli(const std::vector<std::string>& args,
                const std::map<std::string, std::string>& env = {}) const;
  std::vector<std::string> cliArgs(const std::vector<std::string>& args) const;

  // Runs `run --next --yes` until the next step is outbox (the steps before it,
  // catalogue and ownership, as far as they are registered). REQUIREs success.
  void advanceToOutbox();
  // Status line of `step` from `status --json` (null when absent).
  nlohmann::json stepStatus(const std::string& step) const;

  // The events in base's outbox, in seq order.
  std::vector<OutboxEvent> events(const std::string& base) const;
  std::string eventCount(const std::string& base) const;

 private:
  TestDb db_;
  TempDir dir_;
  std::vector<std::string> bases_;
  std::string plan_path_;
};

}  // namespace dbsplit::test
