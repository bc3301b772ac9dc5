// Access control lists of one relation as the ownership and revoke steps read, changes
// and restores them. Pure: no database access, so every rule is unit-tested.
//
// PostgreSQL facts this relies on (src/backend/utils/adt/acl.c):
//  - GRANT to a (grantee, grantor) pair that already has an item changes it in
//    place; otherwise it appends a new item at the end of the array.
//  - REVOKE that empties an item removes it; the others keep their order.
//  - ALTER ... OWNER (aclnewowner) replaces the old owner by the new one as
//    grantee and grantor, in place: an exact relabelling when the new owner is
//    not in the ACL yet.
//  - A NULL relacl means "the owner's defaults"; GRANT/REVOKE on the table
//    replace it by an explicit array, and no GRANT or REVOKE turns it back to
//    NULL. A column ACL that becomes empty is stored as NULL again.
//  - A superuser's GRANT/REVOKE acts as the object's owner (the grantor is the
//    owner); acting as another grantor needs SET ROLE.
// So the step restores a prior ACL by rebuilding it: revoke everything (CASCADE)
// and grant the prior items again in their prior order, each by its grantor.
#pragma once

#include <set>
#include <string>
#include <vector>

namespace dbsplit::acl {

// One aclitem: what `grantee` ("" = PUBLIC) holds from `grantor`.
struct AclItem {
  std::string grantee;
  std::string grantor;
  std::vector<std::string> privileges;  // "SELECT", "INSERT", ... in aclexplode order
  std::set<std::string> grantable;      // those held WITH GRANT OPTION

  bool operator==(const AclItem& o) const {
    return grantee == o.grantee && grantor == o.grantor && privileges == o.privileges &&
           grantable == o.grantable;
  }
};

// One row of aclexplode(), in array order.
struct ExplodedRow {
  std::string grantor;
  std::string grantee;  // "" = PUBLIC
  std::string privilege;
  bool grantable = false;
};

// Groups consecutive aclexplode rows into items (aclexplode walks the array in
// order and each item's privileges in bit order).
std::vector<AclItem> groupRows(const std::vector<ExplodedRow>& rows);

// The rows of several ACLs read in one query, each tagged with the key of its
// ACL (a column name, a default ACL's oid) and ordered by it: the items of
// each run of one key, in order.
std::vector<std::pair<std::string, std::vector<AclItem>>> groupByKey(
    const std::vector<std::pair<std::string, ExplodedRow>>& rows);

// How the steps read ACLs from the catalog, one query per kind of object: the
// aclitem[] column `acl` of the rows of `from` that `where` selects, exploded
// by aclexplode in array order (WITH ORDINALITY keeps it) with the grantor's
// and grantee's names. Each row is `keys` (the columns that tell whose ACL it
// is), then an ExplodedRow: grantor, grantee ('' = PUBLIC), privilege,
// grantable; ordered by `order` (keys), then array position.
std::string aclQuery(const std::string& keys, const std::string& from, const std::string& acl,
                     const std::string& where, const std::string& order);

struct ColumnAcl {
  std::string column;
  std::vector<AclItem> items;  // never empty: a NULL attacl is not listed
};

struct RelationAcl {
  bool table_null = true;  // relacl IS NULL
  std::vector<AclItem> table;
  std::vector<ColumnAcl> columns;  // attnum order

  // Every grantee of the table and of its columns, first appearance order.
  std::vector<std::string> grantees() const;
};

// What ALTER ... OWNER TO `to` makes of the ACL owned by `from`.
RelationAcl relabel(const RelationAcl& acl, const std::string& from, const std::string& to);

bool isWritePrivilege(const std::string& privilege);  // INSERT, UPDATE, DELETE, TRUNCATE

// SQL spelling of a grantee: PUBLIC or a quoted role.
std::string granteeSql(const std::string& grantee);

// Who runs the statements. kSuperuser: its GRANT and REVOKE act as the
// object's owner; a NULL table ACL that a GRANT made explicit is set back to
// NULL in pg_class (exact). kMember: a role with the owner's privileges
// through membership (a managed admin): it SETs ROLE to the owner as to any
// other grantor, or PostgreSQL could record another role it belongs to that
// holds grant options as the grantor; and it cannot write pg_class, so a
// NULL ACL comes back as the owner's defaults written out
// ({owner=arwdDxt/owner}: what NULL means, the same privileges for every
// role, the same pg_dump; only the stored array differs).
enum class Actor { kSuperuser, kMember };

// `statements` run as `role`: under SET ROLE unless a superuser acts as the owner.
std::string asGrantor(const std::string& role, const std::string& owner,
                      const std::string& statements, Actor actor = Actor::kSuperuser);

// The statements that take INSERT, UPDATE, DELETE and TRUNCATE (table and
// column level) from every grantee not in `kept`, for `acl` owned by `owner`.
// `table_sql` is the quoted relation. Items granted by the owner go with one
// REVOKE ... CASCADE (which also takes what those grantees passed on); items
// granted by a kept role are revoked as that role. Empty when nothing is to
// be revoked.
std::vector<std::string> revokeWrites(const std::string& table_sql, const RelationAcl& acl,
                                      const std::string& owner, const std::set<std::string>& kept,
                                      Actor actor = Actor::kSuperuser);

// The same for a sequence (`sequence_sql` quoted; it has no columns): USAGE
// and UPDATE, which nextval and setval need, from every grantee not in
// `kept`; SELECT (currval, reads) stays.
std::vector<std::string> revokeSequenceWrites(const std::string& sequence_sql,
                                              const RelationAcl& acl, const std::string& owner,
                                              const std::set<std::string>& kept,
                                              Actor actor = Actor::kSuperuser);

// The statements that turn any ACL reachable from `acl` by revokeWrites() and
// by grants to `extra_grantees` back into exactly `acl` (items, order, grant
// options, grantors), while `owner` owns the relation.
std::vector<std::string> rebuild(const std::string& table_sql, const RelationAcl& acl,
                                 const std::string& owner,
                                 const std::vector<std::string>& extra_grantees,
                                 bool table_acl_touched, Actor actor = Actor::kSuperuser);

// `statements` (an owner change to `role` of an object in `schema_sql`)
// between a GRANT and a REVOKE of CREATE on the schema to `role`: a
// non-superuser can give an object only to a role that may create in its
// schema. One transaction, so nobody sees the grant; exact when `role` held
// no CREATE of its own before (else pass the statements alone).
std::string withSchemaCreate(const std::string& schema_sql, const std::string& role,
                             const std::string& statements);

}  // namespace dbsplit::acl
