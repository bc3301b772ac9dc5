// Test support for the split step: a fresh database with tables and login
// roles, a plan file whose services carry the database name (group roles and
// target databases are cluster-wide), a way to walk the migration up to a
// step with the real binary, and clean-up of what database mode leaves in the
// cluster (target databases, subscriptions, replication slots). In setup SQL
// and plan text, `@name@` stands for the service `name`'s real name, `@db@`
// for the test database's name.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "support/pg_test.h"

namespace dbsplit::test {

// Drops every subscription of the database `dsn` names, detached from its slot
// (PostgreSQL refuses to drop a database that has one). Quiet when the
// database does not exist.
void dropSubscriptions(const std::string& dsn);

class SplitScenario {
 public:
  // `services`: base names; `roles[base]`: base names of login roles (created as
  // `<db>_<role>`, written into the plan). `plan_body` holds [[table]]s and more.
  SplitScenario(const std::vector<std::string>& services, const std::string& setup_sql,
                const std::string& plan_body,
                const std::map<std::string, std::vector<std::string>>& roles = {});
  ~SplitScenario();
  SplitScenario(const SplitScenario&) = delete;
  SplitScenario& operator=(const SplitScenario&) = delete;

  TestDb& db() { return db_; }
  const TempDir& dir() const { return dir_; }
  std::string journalPath() const { return dir_.file(".dbsplit/t.db"); }
  std::string service(const std::string& base) const { return db_.name() + "_" + base; }
  std::string role(const std::string& base) const { return db_.name() + "_" + base; }
  std::string expand(const std::string& text) const;

  // Rewrites the plan with `extra` appended to the body given at construction.
  void setPlanExtra(const std::string& extra);
  // Gives the service `base` a `database` DSN in the plan.
  void setServiceDatabase(const std::string& base, const std::string& dsn);
  // Appends TOML lines (e.g. `pgbouncer_pool = "x"`) to the service `base`'s entry.
  void setServiceExtra(const std::string& base, const std::string& lines);

  CliResult cli(const std::vector<std::string>& args,
                const std::map<std::string, std::string>& env = {}) const;

  // Runs `run --next --yes` until `step` is the next pending step. REQUIREs success.
  void advanceTo(const std::string& step);
  nlohmann::json stepStatus(const std::string& step) const;

  // DSN of the sandbox as `role` (full name) on database `dbname` (default: this one).
  std::string roleDsn(const std::string& role, const std::string& dbname = {}) const;
  // A database the scenario drops at the end (after its subscriptions).
  std::string extraDatabase(const std::string& base, bool create);
  std::string scalarIn(const std::string& dbname, const std::string& sql) const;
  void execIn(const std::string& dbname, const std::string& sql) const;
  // pg_db_role_setting rows for the scenario's roles, as text.
  std::string roleSettings() const;

 private:
  void writePlan();

  TestDb db_;
  TempDir dir_;
  std::vector<std::string> bases_;
  std::map<std::string, std::vector<std::string>> roles_;
  std::vector<std::string> role_names_;
  std::vector<std::string> extra_dbs_;
  std::map<std::string, std::string> databases_;
  std::map<std::string, std::string> service_extra_;
  std::string body_;
  std::string extra_;
  std::string plan_path_;
};

}  // namespace dbsplit::test
