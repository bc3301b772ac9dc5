// The databases one run's actions touch: the migration's own and, for actions
// whose `database` names a [[service]], that service's database (a
// projection's consumer database, a split's target). Sessions to the others
// open on first use with the same application_name and read-only setting as
// the main one. A service's `database` is laid over the migration's DSN, so
// `database = "dbname=orders"` means "the same server, database orders" while a
// full URI names another server.
//
// Thread-safety: one Targets per run, used by one thread.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>

#include "pg/session.h"
#include "plan/plan.h"

namespace dbsplit::engine {

class Targets {
 public:
  Targets(const plan::Plan& plan, pg::ConnectOptions main_options);

  pg::Session& main();
  // The session for `database` ("" = main); connects on first use. Throws
  // Error(kUsage, "unknown_database") for a name that is no [[service]] with a
  // `database`, Error(kPrecondition, "connection_failed") when it cannot connect.
  pg::Session& session(const std::string& database);
  // Like session(), but nullptr when the database does not exist (yet): an
  // action on a database that was never created has not run.
  pg::Session* existing(const std::string& database);
  // The DSN for `database` ("" = main). Holds the password when the DSN has one.
  std::string dsn(const std::string& database) const;

  // Creates the marker table in `database` once per run (apply only).
  void ensureMarkers(const std::string& database, int lock_timeout_ms);
  // The migration's markers in `database` (empty when it does not exist).
  std::set<std::string> markers(const std::string& database, const std::string& migration);
  // Drops empty marker tables in every database this run connected to.
  void dropEmptyMarkers(int lock_timeout_ms);
  // Reconnects sessions whose connection was lost (after a failure, before
  // rolling back).
  void reconnectLost();

 private:
  const plan::Plan& plan_;
  pg::ConnectOptions main_options_;
  std::map<std::string, std::unique_ptr<pg::Session>> sessions_;  // "" = main
  std::set<std::string> ensured_;
};

}  // namespace dbsplit::engine
