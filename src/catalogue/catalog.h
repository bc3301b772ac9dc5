// An in-memory copy of the parts of the live catalog the analysis needs:
// relations (with columns, partition roots and view definitions), user
// functions (with their bodies) and each role's search_path. Loaded once with
// a few queries so that a million statements never go back to the server.
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

struct Relation {
  std::uint32_t oid = 0;
  std::string schema;
  std::string name;
  char kind = 'r';                   // pg_class.relkind: r, p, v, m, f
  std::vector<std::string> columns;  // attnum order, dropped ones left out
  std::uint32_t root = 0;            // partition root's oid, 0 when not a partition
  std::string viewdef;               // pg_get_viewdef with names schema-qualified (views)

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

  size_t relationCount() const { return relations_.size(); }

 private:
  std::map<std::uint32_t, Relation> relations_;
  std::map<std::pair<std::string, std::string>, std::uint32_t> by_name_;
  std::map<std::pair<std::string, std::string>, std::vector<Function>> functions_;
  std::set<std::string> system_relations_;
  std::map<std::string, std::string> role_paths_;
  std::string default_path_ = "\"$user\", public";
};

// Splits search_path text into schema names (quotes removed, unquoted names
// folded to lower case, "$user" replaced by `role`).
std::vector<std::string> parseSearchPath(const std::string& text, const std::string& role);

// Loads the catalog of the session's database.
// REQUIRES: `session` may be read-only; it is left as it was found.
Catalog loadCatalog(pg::Session& session);

}  // namespace dbsplit::catalogue
