// Builders of the ownership step's actions, one per kind (private to the step).
//   ownership/membership/<role>  GRANT <role> TO <the connected role>: a managed
//                                admin (not a superuser) joins the roles it must act
//                                as: the new groups, old owners, other grantors
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
#include <set>
#include <string>
#include <vector>

#include "engine/action.h"
#include "plan/plan.h"
#include "steps/ownership/catalog.h"

namespace dbsplit::steps::ownership {

// The login roles of the services a [[waiver]] lets write `table` (plan
// order): they keep their write grants on it and its partitions.
std::vector<std::string> waivedRoles(const plan::Table& table, const plan::Plan& plan);

// How the connected role changes owners (relations/admin.h). A superuser
// does it directly. Anyone else gives an object only to a role that may create
// in its schema (CREATE granted and revoked around the change in the same
// action) and cannot set a NULL ACL back (acl::NullAcl::kExplicitDefault).
struct Changer {
  bool superuser = true;
  // The connected role when it is not a superuser: it joins every group, so
  // as an old owner it needs no SELECT granted back to keep reading.
  std::string admin;
  // (role, schema): the role holds CREATE there of its own (no grant around).
  std::set<std::pair<std::string, std::string>> holds_create;
  // Filled by the builders: the roles whose privileges their SQL uses (old
  // owners, grantors it acts as), which a non-superuser must be a member of.
  std::set<std::string>* acts_as = nullptr;
};

// GRANT `role` TO `admin`, inverse REVOKE: before the actions that act as `role`.
engine::Action membershipAction(const std::string& role, const std::string& admin,
                                const std::string& why);

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
                              const std::map<std::string, WaivedGrant>& waived,
                              const Changer& changer = {});

// REQUIRES: seq.owner() is a service; its group is not in the sequence's ACL
// unless it owns it already. `waived`: login roles of services a [[waiver]]
// lets write a table whose default uses it (they keep their grants on it).
// nullopt when there is nothing to change.
std::optional<engine::Action> sequenceAction(const relations::DefaultSequence& seq,
                                             const plan::Plan& plan,
                                             const std::vector<std::string>& waived,
                                             const Changer& changer = {});

// REQUIRES: the view is not owned by `group` and `group` is not in its ACL.
engine::Action viewAction(const ViewState& view, const std::string& group, const plan::Plan& plan,
                          const Changer& changer = {});

}  // namespace dbsplit::steps::ownership
