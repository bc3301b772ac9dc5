// `dbsplit check`: read-only checks that the database can take the plan
// (DESIGN §4): connection, server version, pg_stat_statements, wal_level,
// read-only servers, the privileges each step needs, and that every table and
// column the plan names exists.
#pragma once

#include <string>
#include <vector>

#include "pg/session.h"
#include "plan/plan.h"

namespace dbsplit::engine {

struct CheckResult {
  std::string name;    // "server_version", "table:public.orders", ...
  std::string status;  // "pass" | "warn" | "fail"
  std::string detail;
};

std::vector<CheckResult> preflight(const plan::Plan& plan, pg::Session& session);

}  // namespace dbsplit::engine
