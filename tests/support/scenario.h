// One engine test scenario: a fresh database with some tables, a plan file
// naming them, and a way to run the dbsplit binary against both with the
// engine's test step enabled.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "support/pg_test.h"

namespace dbsplit::test {

class Scenario {
 public:
  // `setup_sql` creates the tables; `tables` are the plan's [[table]] names as
  // written in TOML strings (SQL identifier syntax); `extra_plan` is appended.
  Scenario(const std::string& setup_sql, const std::vector<std::string>& tables,
           const std::string& extra_plan = {});

  TestDb& db() { return db_; }
  const TempDir& dir() const { return dir_; }
  const std::string& planPath() const { return plan_path_; }
  std::string journalPath() const { return dir_.path() + "/.dbsplit/t.db"; }

  // dbsplit --plan <plan> --dsn <db> --no-progress ARGS, with DBSPLIT_TEST_STEPS=1.
  CliResult cli(const std::vector<std::string>& args,
                const std::map<std::string, std::string>& env = {}) const;
  std::vector<std::string> cliArgs(const std::vector<std::string>& args) const;
  std::map<std::string, std::string> cliEnv(const std::map<std::string, std::string>& env) const;

 private:
  TestDb db_;
  TempDir dir_;
  std::string plan_path_;
};

// The JSON Lines of a --json run, parsed; throws on a line that is not JSON.
std::vector<nlohmann::json> jsonLines(const std::string& out);
// The events of one kind.
std::vector<nlohmann::json> eventsOf(const std::vector<nlohmann::json>& lines,
                                     const std::string& kind);

// A fixture's way of running the binary against its plan and database.
using CliFn = std::function<CliResult(const std::vector<std::string>&)>;
// The `status --json` line of `step`, null when absent.
nlohmann::json stepStatusOf(const CliFn& cli, const std::string& step);
// Runs `run --next --yes` until `step` is the next step not applied (the test
// step ignored). REQUIREs every run to succeed.
void advanceUntil(const CliFn& cli, const std::string& step);

}  // namespace dbsplit::test
