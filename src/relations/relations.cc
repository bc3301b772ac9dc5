// The plan's relations read from the live catalog (see relations.h).
#include "relations/relations.h"

#include <algorithm>

#include "fmt/format.h"
#include "nlohmann/json.hpp"
#include "sql/quote.h"

namespace dbsplit::relations {

using acl::ExplodedRow;
using acl::groupRows;
namespace {

constexpr const char* kResolve = R"SQL(
SELECT x.i, c.oid::text, c.relkind::text
  FROM json_to_recordset($1::json) AS x(i int, s text, t text)
  LEFT JOIN pg_catalog.pg_namespace n ON n.nspname = x.s
  LEFT JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = x.t
 ORDER BY x.i)SQL";

constexpr const char* kPartitions = R"SQL(
SELECT x.i, p.relid::oid::text
  FROM json_to_recordset($1::json) AS x(i int, o oid)
 CROSS JOIN LATERAL pg_catalog.pg_partition_tree(x.o::regclass) p
 WHERE p.level > 0
 ORDER BY x.i, p.level, p.relid::oid)SQL";

constexpr const char* kRelations = R"SQL(
SELECT c.oid::text, n.nspname, c.relname, c.relkind::text, o.rolname, o.rolsuper,
       pg_catalog.obj_description(c.oid, 'pg_class'), c.relacl IS NULL
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_catalog.pg_roles o ON o.oid = c.relowner
 WHERE c.oid IN (SELECT value::oid FROM json_array_elements_text($1::json)))SQL";

// Every view and materialized view outside the system schemas with the
// relations it reads, through other views recursively (a view's _RETURN rule
// depends on what its query names). Views are listed as refs too (refkind v or
// m) so that callers can order inner views first.
constexpr const char* kViewRefs = R"SQL(
WITH RECURSIVE dep AS (
  SELECT DISTINCT r.ev_class AS view, d.refobjid AS ref
    FROM pg_catalog.pg_rewrite r
    JOIN pg_catalog.pg_depend d
      ON d.classid = 'pg_catalog.pg_rewrite'::regclass AND d.objid = r.oid
   WHERE d.refclassid = 'pg_catalog.pg_class'::regclass AND d.refobjid <> r.ev_class
), views AS (
  SELECT c.oid
    FROM pg_catalog.pg_class c
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
   WHERE c.relkind IN ('v', 'm')
     AND n.nspname NOT IN ('pg_catalog', 'information_schema')
     AND n.nspname NOT LIKE 'pg\_toast%'
), closure(view, ref) AS (
  SELECT d.view, d.ref FROM dep d JOIN views v ON v.oid = d.view
  UNION
  SELECT c.view, d.ref FROM closure c JOIN dep d ON d.view = c.ref
)
SELECT c.view::text, c.ref::text, k.relkind::text
  FROM closure c
  JOIN pg_catalog.pg_class k ON k.oid = c.ref
 ORDER BY 1, 2)SQL";

// Every column default that uses a sequence no column owns (deptype 'n' from
// the default to the sequence; an owned sequence has an 'a' or 'i' entry of
// its own), with the table and column, for the sequences one of $1's tables
// uses.
constexpr const char* kDefaultSequences = R"SQL(
WITH uses AS (
  SELECT d.refobjid AS seq, ad.adrelid AS rel, a.attname
    FROM pg_catalog.pg_attrdef ad
    JOIN pg_catalog.pg_attribute a ON a.attrelid = ad.adrelid AND a.attnum = ad.adnum
    JOIN pg_catalog.pg_depend d
      ON d.classid = 'pg_catalog.pg_attrdef'::regclass AND d.objid = ad.oid
     AND d.refclassid = 'pg_catalog.pg_class'::regclass AND d.deptype = 'n'
    JOIN pg_catalog.pg_class s ON s.oid = d.refobjid AND s.relkind = 'S'
   WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend o
                      WHERE o.classid = 'pg_catalog.pg_class'::regclass AND o.objid = s.oid
                        AND o.refclassid = 'pg_catalog.pg_class'::regclass
                        AND o.deptype IN ('a', 'i'))
)
SELECT u.seq::text, u.rel::text, n.nspname, c.relname, u.attname
  FROM uses u
  JOIN pg_catalog.pg_class c ON c.oid = u.rel
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE u.seq IN (SELECT seq FROM uses
                  WHERE rel IN (SELECT value::oid FROM json_array_elements_text($1::json)))
 ORDER BY 1, 3, 4, 5)SQL";

const char* relkindName(const std::string& k) {
  if (k == "v") return "a view";
  if (k == "m") return "a materialized view";
  if (k == "f") return "a foreign table";
  if (k == "S") return "a sequence";
  return "not a table";
}

}  // namespace

std::map<std::string, RelationState> readStates(pg::Session& catalog, const nlohmann::json& oids) {
  std::map<std::string, RelationState> by_oid;
  for (const auto& row : catalog.execParams(kRelations, oids.dump())) {
    RelationState r;
    r.oid = row[0].c_str();
    r.schema = row[1].c_str();
    r.name = row[2].c_str();
    r.kind = row[3].c_str()[0];
    r.owner = row[4].c_str();
    r.owner_is_superuser = row[5].as<bool>();
    if (!row[6].is_null()) r.comment = row[6].c_str();
    r.acl.table_null = row[7].as<bool>();
    by_oid[r.oid] = std::move(r);
  }
  std::map<std::string, std::vector<ExplodedRow>> table_rows;
  const std::string in_oids = "(SELECT value::oid FROM json_array_elements_text($1::json))";
  for (const auto& row :
       catalog.execParams(acl::aclQuery("c.oid::text", "pg_catalog.pg_class c", "c.relacl",
                                        "c.oid IN " + in_oids, "c.oid"),
                          oids.dump())) {
    table_rows[row[0].c_str()].push_back(
        {row[1].c_str(), row[2].c_str(), row[3].c_str(), row[4].as<bool>()});
  }
  std::map<std::string, std::vector<std::pair<std::string, ExplodedRow>>> column_rows;
  for (const auto& row : catalog.execParams(
           acl::aclQuery("a.attrelid::text, a.attname", "pg_catalog.pg_attribute a", "a.attacl",
                         "a.attrelid IN " + in_oids + " AND a.attnum > 0 AND NOT a.attisdropped",
                         "a.attrelid, a.attnum"),
           oids.dump())) {
    column_rows[row[0].c_str()].emplace_back(
        row[1].c_str(),
        ExplodedRow{row[2].c_str(), row[3].c_str(), row[4].c_str(), row[5].as<bool>()});
  }
  for (auto& [oid, r] : by_oid) {
    r.acl.table = groupRows(table_rows[oid]);
    for (auto& [column, items] : acl::groupByKey(column_rows[oid])) {
      r.acl.columns.push_back({column, std::move(items)});
    }
  }
  return by_oid;
}

std::string RelationState::quoted() const { return sql::quoteQualified(schema, name); }

std::vector<RelationState> readRelations(pg::Session& catalog, const plan::Plan& plan) {
  nlohmann::json names = nlohmann::json::array();
  for (size_t i = 0; i < plan.tables.size(); ++i) {
    names.push_back({{"i", i}, {"s", plan.tables[i].name.schema}, {"t", plan.tables[i].name.name}});
  }
  std::vector<std::string> problems;
  std::vector<std::string> root_oids(plan.tables.size());
  nlohmann::json roots = nlohmann::json::array();
  for (const auto& row : catalog.execParams(kResolve, names.dump())) {
    size_t i = row[0].as<size_t>();
    const plan::Table& t = plan.tables[i];
    if (row[1].is_null()) {
      problems.push_back(fmt::format("{}: table {} does not exist", t.pos.str(), t.name.display()));
      continue;
    }
    std::string kind = row[2].c_str();
    if (kind != "r" && kind != "p") {
      problems.push_back(fmt::format("{}: {} is {}; [[table]] names a table", t.pos.str(),
                                     t.name.display(), relkindName(kind)));
      continue;
    }
    root_oids[i] = row[1].c_str();
    roots.push_back({{"i", i}, {"o", root_oids[i]}});
  }
  if (!problems.empty()) {
    throw Error::precondition(
        "table_missing",
        fmt::format("{} [[table]] entr{} name no table in the database; "
                    "nothing changed",
                    problems.size(), problems.size() == 1 ? "y does" : "ies do"),
        "create the tables, or fix the names in the plan (schema-qualified, "
        "as in pg_class; quote mixed case)")
        .withDetails(problems);
  }
  // Order: each plan table, then its partitions; partitions the plan declares
  // itself come with their own entry.
  std::vector<std::pair<std::string, const plan::Table*>> order;
  std::set<std::string> seen(root_oids.begin(), root_oids.end());
  std::map<size_t, std::vector<std::string>> parts;
  for (const auto& row : catalog.execParams(kPartitions, roots.dump())) {
    parts[row[0].as<size_t>()].push_back(row[1].c_str());
  }
  for (size_t i = 0; i < plan.tables.size(); ++i) {
    order.emplace_back(root_oids[i], &plan.tables[i]);
    for (const auto& p : parts[i]) {
      if (seen.insert(p).second) order.emplace_back(p, &plan.tables[i]);
    }
  }
  nlohmann::json oids = nlohmann::json::array();
  for (const auto& o : order) oids.push_back(o.first);
  std::map<std::string, RelationState> by_oid = readStates(catalog, oids);
  std::vector<RelationState> out;
  for (const auto& [oid, table] : order) {
    RelationState r = by_oid.at(oid);
    r.table = table;
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<ViewState> readViews(pg::Session& catalog,
                                 const std::vector<RelationState>& relations) {
  std::set<std::string> planned;
  for (const auto& r : relations) planned.insert(r.oid);
  std::map<std::string, ViewState> views;
  for (const auto& row : catalog.exec(kViewRefs)) {
    ViewState& v = views[row[0].c_str()];
    std::string kind = row[2].c_str();
    if (kind == "v" || kind == "m") {
      ++v.inner_views;
    } else {
      v.bases.push_back(row[1].c_str());
    }
  }
  nlohmann::json oids = nlohmann::json::array();
  for (auto it = views.begin(); it != views.end();) {
    const auto& bases = it->second.bases;
    if (std::none_of(bases.begin(), bases.end(),
                     [&](const std::string& b) { return planned.count(b) > 0; })) {
      it = views.erase(it);
    } else {
      oids.push_back(it->first);
      ++it;
    }
  }
  std::vector<ViewState> out;
  if (views.empty()) return out;
  std::map<std::string, RelationState> states = readStates(catalog, oids);
  for (auto& [oid, v] : views) {
    v.relation = states.at(oid);
    out.push_back(std::move(v));
  }
  // Inner views first: a view over another one reads strictly more relations.
  std::sort(out.begin(), out.end(), [](const ViewState& a, const ViewState& b) {
    if (a.inner_views != b.inner_views) return a.inner_views < b.inner_views;
    return std::make_pair(a.relation.schema, a.relation.name) <
           std::make_pair(b.relation.schema, b.relation.name);
  });
  return out;
}

std::string DefaultSequence::describe() const {
  std::string used;
  for (const auto& u : users) used += (used.empty() ? "" : ", ") + u;
  return state.display() + " (used by " + used + ")";
}

std::vector<DefaultSequence> readDefaultSequences(pg::Session& catalog,
                                                  const std::vector<RelationState>& relations) {
  std::vector<DefaultSequence> out;
  if (relations.empty()) return out;
  std::map<std::string, const RelationState*> by_oid;
  nlohmann::json oids = nlohmann::json::array();
  for (const auto& r : relations) {
    by_oid[r.oid] = &r;
    oids.push_back(r.oid);
  }
  std::map<std::string, DefaultSequence> seqs;
  for (const auto& row : catalog.execParams(kDefaultSequences, oids.dump())) {
    DefaultSequence& d = seqs[row[0].c_str()];
    auto it = by_oid.find(row[1].c_str());
    std::string column = std::string(row[2].c_str()) + "." + row[3].c_str() + "." + row[4].c_str();
    if (it == by_oid.end() || !it->second->table) {
      d.unplanned = true;
      d.users.push_back(column + " (not in the plan)");
    } else {
      d.owners.insert(it->second->table->owner);
      if (std::find(d.tables.begin(), d.tables.end(), it->second->table) == d.tables.end()) {
        d.tables.push_back(it->second->table);
      }
      d.users.push_back(column + " of " + it->second->table->owner);
    }
  }
  if (seqs.empty()) return out;
  nlohmann::json seq_oids = nlohmann::json::array();
  for (const auto& [oid, d] : seqs) seq_oids.push_back(oid);
  std::map<std::string, RelationState> states = readStates(catalog, seq_oids);
  for (auto& [oid, d] : seqs) {
    d.state = states.at(oid);
    out.push_back(std::move(d));
  }
  std::sort(out.begin(), out.end(), [](const DefaultSequence& a, const DefaultSequence& b) {
    return std::make_pair(a.state.schema, a.state.name) <
           std::make_pair(b.state.schema, b.state.name);
  });
  return out;
}

bool currentUserIsSuperuser(pg::Session& catalog) {
  return catalog.scalar("SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user")
             .value_or("f") == "t";
}

}  // namespace dbsplit::relations
