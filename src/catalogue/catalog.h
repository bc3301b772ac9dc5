// An in-memory copy of the parts of the live catalog the analysis needs:
// relations (with columns, partition roots, view definitions, triggers and
// rules), user functions (with their bodies) and each role's search_path.
// Loaded once with a few queries so that a million statements never go back
// to the server.
// Unit tests fill one by hand.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace dbsplit::pg {
class Session;
}

namespace dbsplit::catalogue {

// What fires a trigger or a rule: a set of these bits.
enum Event : unsigned {
  kInsert = 1,
  kUpdate = 2,
  kDelete = 4,
  kTruncate = 8,
};

// A user trigger (pg_trigger, not tgisinternal) that can fire for the
// services' statements. Disabled triggers (tgenabled 'D') are not loaded, and
// neither are 'R' (ENABLE REPLICA) ones: those fire only in sessions with
// session_replication_role = replica (logical replication apply, pg_restore),
// never for an application's statements, which run as 'origin'. 'O' (the
// default) and 'A' (ENABLE ALWAYS) fire for them.
struct Trigger {
  std::string name;
  std::uint32_t function = 0;        // pg_trigger.tgfoid
  unsigned events = 0;               // Event bits, from tgtype
  bool instead = false;              // INSTEAD OF (views)
  std::vector<std::string> columns;  // UPDATE OF these columns; empty: any update
  bool fires(unsigned ev, const std::set<std::string>& set_columns) const;
};

// A rule on a relation other than a view's SELECT rule (pg_rewrite).
struct Rule {
  std::uint32_t oid = 0;
  std::string name;
  unsigned events = 0;     // one Event bit
  bool instead = false;    // DO INSTEAD
  std::string definition;  // pg_get_ruledef, names schema-qualified
};

struct Relation {
  std::uint32_t oid = 0;
  std::string schema;
  std::string name;
  char kind = 'r';                   // pg_class.relkind: r, p, v, m, f
  std::vector<std::string> columns;  // attnum order, dropped ones left out
  std::uint32_t root = 0;            // partition root's oid, 0 when not a partition
  std::string viewdef;               // pg_get_viewdef with names schema-qualified (views)
  // Its own triggers: a partition's clones of its root's triggers (PG 13+:
  // tgparentid <> 0; PG 11-12: tgisinternal) are left out, the root's are
  // found through `root` (Catalog::triggersFiredBy).
  std::vector<Trigger> triggers;
  std::vector<Rule> rules;
  // Made by dbsplit (its comment says so): kMachinery for outboxes, relay
  // cursors and backfill progress (never application data); kReadModel for
  // projections and views rebuilt over them (the consumer's to read, dbsplit's
  // relay and compare to write and check).
  enum class Made { kNotByDbsplit, kMachinery, kReadModel };
  Made made = Made::kNotByDbsplit;

  std::string display() const { return schema + "." + name; }
  bool isView() const { return kind == 'v' || kind == 'm'; }
  bool hasColumn(const std::string& c) const;
};

struct Function {
  std::uint32_t oid = 0;
  std::string schema;
  std::string name;
  int nargs = 0;
  int ndefaults = 0;
  bool variadic = false;
  std::string language;  // "sql", "plpgsql", "c", ...
  std::string identity;  // "public.f(integer)"
  std::string body;      // prosrc (sql), the whole CREATE FUNCTION (plpgsql, sql-standard bodies)
  bool sql_standard = false;  // BEGIN ATOMIC ... END: `body` is a CREATE FUNCTION
  // `SET search_path = ...` of the function (proconfig): its body resolves
  // names with it instead of the caller's.
  std::optional<std::string> search_path;
};

class Catalog {
 public:
  void addRelation(Relation r);
  void addFunction(Function f);
  void addSystemRelation(const std::string& name) { system_relations_.insert(name); }
  // search_path text ("\"$user\", public") for a role; database default otherwise.
  void setRoleSearchPath(const std::string& role, const std::string& path);
  void setDefaultSearchPath(const std::string& path) { default_path_ = path; }

  // The schemas searched for `role`, in order ("$user" replaced, pg_catalog left out).
  std::vector<std::string> searchPath(const std::string& role) const;

  const Relation* byOid(std::uint32_t oid) const;
  const Relation* find(const std::string& schema, const std::string& name) const;
  // Resolves a possibly unqualified name. nullopt: not found anywhere; a null
  // pointer inside: a system relation (pg_catalog), which is not catalogued.
  std::optional<const Relation*> resolve(const std::string& schema, const std::string& name,
                                         const std::vector<std::string>& path) const;
  // User functions `name` taking `nargs` arguments, from the first schema of the
  // path that has any (all matches in `schema` when qualified).
  std::vector<const Function*> functions(const std::string& schema, const std::string& name,
                                         int nargs, const std::vector<std::string>& path) const;

  const Function* functionByOid(std::uint32_t oid) const;
  // The triggers a write of kind `ev` (Event bits) to `rel` fires, each with
  // the relation it is defined on, once: `rel`'s own, its root's when it is a
  // partition, and, when it is a partitioned table, its partitions' own ones
  // (the row lands in one of them, which one is not known from the text).
  // `set_columns`: the UPDATE's SET list, for UPDATE OF triggers.
  std::vector<std::pair<const Relation*, const Trigger*>> triggersFiredBy(
      const Relation& rel, unsigned ev, const std::set<std::string>& set_columns,
      bool instead) const;

  size_t relationCount() const { return relations_.size(); }
  // What made the relation named `display` (schema.name), by its comment.
  Relation::Made madeBy(const std::string& display) const;

 private:
  std::map<std::uint32_t, Relation> relations_;
  std::map<std::pair<std::string, std::string>, std::uint32_t> by_name_;
  std::map<std::pair<std::string, std::string>, std::vector<Function>> functions_;
  std::map<std::uint32_t, std::pair<std::pair<std::string, std::string>, size_t>> function_oids_;
  std::map<std::uint32_t, std::vector<std::uint32_t>> partitions_;  // root -> partitions
  std::set<std::string> system_relations_;
  std::map<std::string, Relation::Made> made_by_dbsplit_;  // by display(): a few entries
  std::map<std::string, std::string> role_paths_;
  std::string default_path_ = "\"$user\", public";
};

// dbsplit's own outbox triggers (step 3, src/steps/outbox/sql.h: triggers
// `dbsplit_outbox` / `dbsplit_outbox_truncate` calling `<owner>.outbox_*()`).
// They are not loaded: they are the owner's publishing, not an access of the
// service whose statement fires them. Followed, every writer of a published
// table (the owner itself, a waived non-owner) would "write" `<owner>.outbox`,
// a cross-service write for the others that step 2 would refuse and step 5
// would revoke, breaking the outbox that step 4 relies on.
bool isOutboxTrigger(const std::string& trigger, const std::string& function);

// Splits search_path text into schema names (quotes removed, unquoted names
// folded to lower case, "$user" replaced by `role`).
std::vector<std::string> parseSearchPath(const std::string& text, const std::string& role);

// The primary key columns, in key order, of each of `tables` (schema.name as
// in pg_class) that has one.
std::map<std::string, std::vector<std::string>> readPrimaryKeys(
    pg::Session& session, const std::set<std::string>& tables);

// Loads the catalog of the session's database.
// REQUIRES: `session` may be read-only; it is left as it was found.
Catalog loadCatalog(pg::Session& session);

}  // namespace dbsplit::catalogue
