// A database shaped for the ownership step: two services (owner and consumer)
// whose names derive from the test database's name (group roles are
// cluster-wide), login roles, a reporter role with a hostile name, a legacy
// owner, and tables with every kind of ACL the step must restore exactly:
// grants to PUBLIC, grant options and grants made by a non-owner grantor,
// column grants (also on a table whose relacl is NULL), default privileges, a
// partitioned table, identity and serial sequences, hostile identifiers.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "support/pg_test.h"

namespace dbsplit::test {

// Drops the named roles at destruction (after the database that used them).
class RoleCleanup {
 public:
  ~RoleCleanup();
  void add(const std::string& role) { roles_.push_back(role); }

 private:
  std::vector<std::string> roles_;
};

class OwnershipScenario {
 public:
  // `extra_plan` is appended to the plan (waivers, more tables).
  explicit OwnershipScenario(const std::string& extra_plan = {}, bool with_fixture = true);

  TestDb& db() { return db_; }
  const TempDir& dir() const { return dir_; }
  std::string planPath() const { return dir_.file("dbsplit.toml"); }
  std::string journalPath() const { return dir_.path() + "/.dbsplit/t.db"; }

  const std::string& owner() const { return owner_; }        // service owning the tables
  const std::string& consumer() const { return consumer_; }  // the other service
  std::string role(const std::string& base) const { return roles_.at(base); }

  // Rewrites the plan: services, `tables` as [[table]] entries owned by
  // owner() (TOML basic strings), then `extra`.
  void writePlan(const std::vector<std::string>& tables, const std::string& extra = {});

  // dbsplit --plan <plan> --dsn <db> --no-progress ARGS.
  CliResult cli(const std::vector<std::string>& args,
                const std::map<std::string, std::string>& env = {}) const;
  std::vector<std::string> cliArgs(const std::vector<std::string>& args) const;

  // `dbsplit run catalogue` (step 1; its source is an SQL file with nothing
  // cross-service in it), which the engine requires before ownership.
  void runCatalogue() const;
  // Stores a catalogue snapshot with the journal API (the latest wins).
  void addSnapshot(const std::string& body) const;

  // relacl and every attacl of the owned tables, and owners of relations and
  // sequences, as text: what must be back after a rollback.
  std::string aclState() const;

 private:
  RoleCleanup cleanup_;  // first member: runs after db_ is dropped
  TestDb db_;
  TempDir dir_;
  std::string owner_;
  std::string consumer_;
  std::map<std::string, std::string> roles_;
};

// The plan's [[table]] names of the fixture.
std::vector<std::string> ownershipTables();

}  // namespace dbsplit::test
