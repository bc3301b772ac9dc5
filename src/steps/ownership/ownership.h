// `ownership` (step 2, DESIGN §6): one owner per table, enforced in
// PostgreSQL. Per service a NOLOGIN group role named after the service,
// granted to its login roles, and a schema of that name owned by the group;
// per owned table (and each partition) one action that makes the group the
// owner (indexes and owned sequences follow), revokes INSERT, UPDATE, DELETE
// and TRUNCATE from every other role and PUBLIC (reads stay; the login roles
// of a service a [[waiver]] names get back what the catalogue saw them write
// on the waived table), and records the owner in the table's comment; per
// sequence no column owns that one service's tables' defaults use, the same
// for nextval and setval; then per view (or materialized view) that
// reads only one service's tables, one action that makes the group its owner
// (nothing revoked on it). Inverses restore the prior owner, ACL (order,
// grantors and grant options included), column ACLs and comment exactly.
// docs/steps/ownership.md has the details.
#pragma once

#include "engine/step.h"

namespace dbsplit::steps {

// The registry's instance.
const engine::Step* ownershipStep();

namespace ownership {

// The comment recorded on an owned table, keeping the prior one above it.
std::string ownerComment(const std::string& service, const std::optional<std::string>& prior);

// The comment that marks a group role as created by dbsplit.
std::string roleComment(const std::string& service);

}  // namespace ownership
}  // namespace dbsplit::steps
