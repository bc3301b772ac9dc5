// Builders of the ownership step's actions, one per kind (private to the step).
//   ownership/role/<service>     CREATE ROLE ... NOLOGIN (+ a COMMENT marking it ours)
//   ownership/members/<service>  GRANT <group> TO <login roles>
//   ownership/schema/<service>   CREATE SCHEMA ... AUTHORIZATION <group>
//   ownership/table/<relation>   ALTER OWNER, REVOKE writes, COMMENT (one per
//                                table and per partition)
//   ownership/view/<relation>    ALTER [MATERIALIZED] VIEW OWNER (a view over
//                                one service's tables only)
//   ownership/sequence/<seq>     ALTER SEQUENCE OWNER, REVOKE USAGE, UPDATE (a
//                                sequence no column owns, used by the defaults
//                                of one service's tables)
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/action.h"
#include "plan/plan.h"
#include "steps/ownership/catalog.h"

namespace dbsplit::steps::ownership {

// The login roles of the services a [[waiver]] lets write `table` (plan
// order): they keep their write grants on it and its partitions.
std::vector<std::string> waivedRoles(const plan::Table& table, const plan::Plan& plan);

engine::Action roleAction(const plan::Service& service);
engine::Action membersAction(const plan::Service& service, const std::vector<std::string>& members);
engine::Action schemaAction(const plan::Service& service);

// What one login role of a waived service is granted back on the relation,
// after its writes were revoked with everyone else's.
struct WaivedGrant {
  std::vector<std::string> privileges;      // table level (INSERT, UPDATE, DELETE, TRUNCATE)
  std::vector<std::string> update_columns;  // UPDATE (columns)
  std::string evidence;                     // why (waivers.h)
};

// REQUIRES: the group role of the relation's owner does not appear in its ACL
// unless it already owns it (checked by the planner). `waived`: per login role
// of a service a [[waiver]] lets write the relation's plan table (waivedRoles()),
// what it gets back: what the catalogue saw it write, within what it held.
engine::Action relationAction(const RelationState& relation, const plan::Plan& plan,
                              const std::map<std::string, WaivedGrant>& waived);

// REQUIRES: seq.owner() is a service; its group is not in the sequence's ACL
// unless it owns it already. `waived`: login roles of services a [[waiver]]
// lets write a table whose default uses it (they keep their grants on it).
// nullopt when there is nothing to change.
std::optional<engine::Action> sequenceAction(const relations::DefaultSequence& seq,
                                             const plan::Plan& plan,
                                             const std::vector<std::string>& waived);

// REQUIRES: the view is not owned by `group` and `group` is not in its ACL.
engine::Action viewAction(const ViewState& view, const std::string& group, const plan::Plan& plan);

}  // namespace dbsplit::steps::ownership
