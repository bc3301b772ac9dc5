// The revoke step's SQL: which grantees lose access to what, the REVOKE
// statements that take it, and the statements that give back exactly the ACL
// each object had (items, order, grantors, grant options; via
// acl::rebuild for relations). Pure: no database access.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "engine/action.h"
#include "plan/plan.h"
#include "steps/revoke/catalog.h"

namespace dbsplit::steps::revoke {

// Which services a role acts for: a group role (named after its service) and
// the login roles each [[service]] lists.
class ServiceRoles {
 public:
  explicit ServiceRoles(const plan::Plan& plan);
  std::set<std::string> servicesOf(const std::string& role) const;
  // True for PUBLIC ("") and for a role acting only for services outside
  // `allowed`; roles of no service keep their grants.
  bool loses(const std::string& grantee, const std::set<std::string>& allowed) const;

 private:
  std::multimap<std::string, std::string> services_;  // role -> service
};

// What one owner's action revokes: forward statements and their exact inverse
// (in the order to run them).
inline constexpr size_t kBatch = 500;

struct Revocation {
  std::string service;
  std::vector<std::string> forward;
  std::vector<std::string> inverse;
  std::set<std::string> consumers;                        // services that lose access
  bool public_access = false;                             // PUBLIC loses access
  std::vector<std::string> relations, schemas, defaults;  // what it touches, for people
};

// The statements revoking from `losing` grantees every privilege on
// `relation` (table and column level, whoever granted it): first as each
// remaining non-owner grantor (SET ROLE), then as the owner with CASCADE.
// Empty when none of them holds anything. `table_sql` stands for the relation
// in the statements (default: its quoted name). `actor`: who runs them
// (acl::Actor: a member SETs ROLE to the owner too).
std::vector<std::string> revokeRelation(const relations::RelationState& relation,
                                        const std::set<std::string>& losing,
                                        const std::string& table_sql = {},
                                        acl::Actor actor = acl::Actor::kSuperuser);

// A view the plan keeps readable after step 5 ([[view]] decision = "keep"):
// no revocation touches it.
bool keptView(const plan::Plan& plan, const Relation& relation);

// One Revocation per service whose data someone else can read, in plan order.
// Relations whose statements are the same but for their name share each
// statement (`GRANT ... ON TABLE a, b, ...`, up to kBatch relations): one
// statement per ACL shape instead of one per table, so that 1,000 tables roll
// back in a fraction of a second.
std::vector<Revocation> planRevocations(const plan::Plan& plan, const Objects& objects,
                                        acl::Actor actor = acl::Actor::kSuperuser);

engine::Action toAction(const Revocation& r);

}  // namespace dbsplit::steps::revoke
