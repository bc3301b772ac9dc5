// Test support for the revoke step, on top of the ownership fixture (two
// services, grants of every kind, hostile identifiers; plus public.shipments,
// owned by the consumer and read by the owner's login role): advances the migration
// to the revoke step with the real binary (`run --next --yes`), adds the
// cross-service grants ownership leaves alone (schema USAGE, a sequence, the
// owner roles' default privileges), and stands in for the projections and
// compare commands (not in this tree) by writing their journal records with
// the Journal API: `compare` and `relay_start` snapshots (COMMON contracts).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "support/ownership_fixture.h"

namespace dbsplit::test {

// The [[event]] of public.orders and the consumer's (@consumer@) projection of
// it, order_view (id, status): the extra plan most revoke tests need.
extern const char* const kOrderViewProjection;

// The gate events of a `run ... --json` output: name -> (passed, evidence).
std::map<std::string, std::pair<bool, std::string>> gatesOf(const CliResult& run);

class RevokeScenario {
 public:
  // `revoke_settings`: the body of [step.revoke] (deprecation_window, ...);
  // `extra_plan`: appended ([[projection]]s), with @consumer@ and @owner@
  // standing for the two services' names.
  // `pg_stat_statements`: the catalogue reads it instead of the SQL files.
  explicit RevokeScenario(const std::string& revoke_settings = "deprecation_window = \"1s\"",
                          const std::string& extra_plan = {}, bool pg_stat_statements = false);

  OwnershipScenario& s() { return s_; }
  std::string journalPath() const { return s_.journalPath(); }
  TestDb& db() { return s_.db(); }
  const std::string& owner() const { return s_.owner(); }
  const std::string& consumer() const { return s_.consumer(); }
  std::string role(const std::string& base) const { return s_.role(base); }
  CliResult cli(const std::vector<std::string>& args,
                const std::map<std::string, std::string>& env = {}) const {
    return s_.cli(args, env);
  }

  // The consumer's reads, as the catalogue's SQL-file source of the consumer
  // sees them (rewrite it to simulate a read inside the window).
  void setConsumerSql(const std::string& sql) const;

  // Runs `run --next --yes` until revoke is next; then grants the extras.
  void advanceToRevoke();
  // Waits until the catalogue snapshot is older than the 1s window.
  void waitWindow() const;

  // Journal records the projections and compare commands write.
  void addCompare(bool clean) const;
  void addRelayStart() const;

  // Status of `step` from `status --json` ("" when absent).
  std::string stepStatus(const std::string& step) const;
  // ACLs of every relation, schema and default privilege entry of the test
  // database, as text.
  std::string aclState() const;

  // Runs `sql` as `role`; returns the SQLSTATE of the error, or "" on success.
  std::string sqlstateAs(const std::string& role, const std::string& sql) const;

 private:
  mutable OwnershipScenario s_;  // its db() is non-const; queries change nothing
};

}  // namespace dbsplit::test
