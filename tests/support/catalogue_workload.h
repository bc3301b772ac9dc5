// The catalogue's correctness workload: a shop schema with views (one over
// another), a partitioned table, SQL and PL/pgSQL functions, quoted mixed-case
// and non-ASCII names and a table name used in two schemas; four roles (three
// services and one unassigned) run a fixed set of statements, and the exact
// (service, table, kind) set they produce is known.
#pragma once

#include <functional>
#include <set>
#include <string>
#include <tuple>

#include "nlohmann/json.hpp"

namespace dbsplit::test {

struct ShopRoles {
  std::string orders, fulfillment, billing, stray;  // login role names
};

// DDL and grants, run as a superuser through `exec`. The roles must exist.
std::string shopSchemaSql(const ShopRoles& roles);
// Runs each role's statements on its own connection; `dsn_for(role)` gives it.
void runShopWorkload(const ShopRoles& roles,
                     const std::function<std::string(const std::string&)>& dsn_for);
// The plan's [migration] and [[service]] entries for `roles`.
std::string shopPlan(const ShopRoles& roles, const std::string& extra = {});

using AccessTriple = std::tuple<std::string, std::string, std::string>;  // service, table, kind
std::set<AccessTriple> expectedShopAccesses();
// The (service, table, kind) set of a snapshot (`catalogue --format json`).
std::set<AccessTriple> accessTriples(const nlohmann::json& snapshot);

}  // namespace dbsplit::test
