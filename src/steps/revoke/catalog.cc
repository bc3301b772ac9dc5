// Live-catalog reads of the revoke step. Values travel as bind parameters (a
// JSON array for sets), never pasted into SQL.
#include "steps/revoke/catalog.h"

#include "nlohmann/json.hpp"

namespace dbsplit::steps::revoke {
namespace {

using acl::AclItem;
using acl::ExplodedRow;

// Sequences that belong to a table's column (serial: 'a', identity: 'i').
constexpr const char* kSequences = R"SQL(
SELECT d.refobjid::text, s.oid::text
  FROM pg_catalog.pg_depend d
  JOIN pg_catalog.pg_class s ON s.oid = d.objid AND s.relkind = 'S'
 WHERE d.classid = 'pg_catalog.pg_class'::regclass
   AND d.refclassid = 'pg_catalog.pg_class'::regclass
   AND d.deptype IN ('a', 'i')
   AND d.refobjid IN (SELECT value::oid FROM json_array_elements_text($1::json))
 ORDER BY 1, 2)SQL";

constexpr const char* kSchemas = R"SQL(
SELECT n.nspname, o.rolname
  FROM pg_catalog.pg_namespace n
  JOIN pg_catalog.pg_roles o ON o.oid = n.nspowner
 WHERE n.nspname IN (SELECT value FROM json_array_elements_text($1::json))
 ORDER BY 1)SQL";

std::string relationWhat(const relations::RelationState& r, bool partition) {
  switch (r.kind) {
    case 'v':
      return "view";
    case 'm':
      return "materialized view";
    case 'S':
      return "sequence";
    default:
      return partition ? "partition" : "table";
  }
}

}  // namespace

Objects readObjects(pg::Session& catalog, const plan::Plan& plan) {
  Objects out;
  std::vector<relations::RelationState> tables = relations::readRelations(catalog, plan);
  std::map<std::string, std::string> service_of;  // oid -> owning service
  nlohmann::json table_oids = nlohmann::json::array();
  for (const auto& t : tables) {
    bool partition = t.table->name.schema != t.schema || t.table->name.name != t.name;
    out.relations.push_back({t, relationWhat(t, partition), t.table->owner, {t.table->owner}, {}});
    out.owner_of[t.display()] = t.table->owner;
    out.root_of[t.display()] = t.table->name.display();
    service_of[t.oid] = t.table->owner;
    table_oids.push_back(t.oid);
  }
  // Sequences follow their table.
  std::vector<std::pair<std::string, std::string>> seqs;  // table oid, sequence oid
  nlohmann::json seq_oids = nlohmann::json::array();
  if (!tables.empty()) {
    for (const auto& row : catalog.execParams(kSequences, table_oids.dump())) {
      seqs.emplace_back(row[0].c_str(), row[1].c_str());
      seq_oids.push_back(row[1].c_str());
    }
  }
  if (!seqs.empty()) {
    auto states = relations::readStates(catalog, seq_oids);
    for (const auto& [table, seq] : seqs) {
      const std::string& service = service_of.at(table);
      out.relations.push_back({states.at(seq), "sequence", service, {service}, {}});
    }
  }
  // So do the sequences no column owns that one service's tables' defaults use
  // (a shared one belongs to nobody: step ownership's shared_sequences gate).
  for (auto& seq : relations::readDefaultSequences(catalog, tables)) {
    const std::string service = seq.owner();
    if (!service.empty()) out.relations.push_back({seq.state, "sequence", service, {service}, {}});
  }
  // Views: the service of their planned base tables; a view over several
  // services' tables is everyone's to lose (and its action is that of the first
  // of them by name).
  if (!tables.empty()) {
    for (auto& v : relations::readViews(catalog, tables)) {
      std::set<std::string> services;
      for (const auto& base : v.bases) {
        auto it = service_of.find(base);
        if (it != service_of.end()) services.insert(it->second);
      }
      if (services.empty()) continue;
      std::set<std::string> allowed;
      if (services.size() == 1) allowed = services;
      out.relations.push_back(
          {v.relation, relationWhat(v.relation, false), *services.begin(), allowed, services});
    }
  }
  // The services' own schemas (made by `ownership`).
  nlohmann::json names = nlohmann::json::array();
  nlohmann::json roles = nlohmann::json::array();
  for (const auto& s : plan.services) {
    names.push_back(s.name);
    roles.push_back(s.name);
    for (const auto& r : s.roles) roles.push_back(r);
  }
  std::vector<std::pair<std::string, ExplodedRow>> schema_rows;
  for (const auto& row : catalog.execParams(
           acl::aclQuery("n.nspname", "pg_catalog.pg_namespace n", "n.nspacl",
                         "n.nspname IN (SELECT value FROM json_array_elements_text($1::json))",
                         "n.nspname"),
           names.dump())) {
    schema_rows.emplace_back(row[0].c_str(), ExplodedRow{row[1].c_str(), row[2].c_str(),
                                                         row[3].c_str(), row[4].as<bool>()});
  }
  std::map<std::string, std::vector<AclItem>> schema_items;
  for (auto& [name, items] : acl::groupByKey(schema_rows)) schema_items[name] = std::move(items);
  for (const auto& row : catalog.execParams(kSchemas, names.dump())) {
    SchemaAcl s{row[0].c_str(), row[1].c_str(), {}};
    s.items = schema_items[s.name];
    out.schemas.push_back(std::move(s));
  }
  std::map<std::string, DefaultAcl> default_of;  // by pg_default_acl oid
  std::vector<std::pair<std::string, ExplodedRow>> default_rows;
  // Default privileges for tables and sequences of the services' roles.
  for (const auto& row : catalog.execParams(
           acl::aclQuery(
               "d.oid::text, r.rolname, coalesce(n.nspname, ''), d.defaclobjtype::text",
               "pg_catalog.pg_default_acl d\n"
               "  JOIN pg_catalog.pg_roles r ON r.oid = d.defaclrole\n"
               "  LEFT JOIN pg_catalog.pg_namespace n ON n.oid = d.defaclnamespace",
               "d.defaclacl",
               "d.defaclobjtype IN ('r', 'S')\n"
               "   AND r.rolname IN (SELECT value FROM json_array_elements_text($1::json))",
               "r.rolname, coalesce(n.nspname, ''), d.defaclobjtype, d.oid"),
           roles.dump())) {
    default_of.emplace(row[0].c_str(),
                       DefaultAcl{row[1].c_str(), row[2].c_str(), row[3].c_str()[0], {}});
    default_rows.emplace_back(row[0].c_str(), ExplodedRow{row[4].c_str(), row[5].c_str(),
                                                          row[6].c_str(), row[7].as<bool>()});
  }
  for (auto& [oid, items] : acl::groupByKey(default_rows)) {
    DefaultAcl d = default_of.at(oid);
    d.items = std::move(items);
    out.defaults.push_back(std::move(d));
  }
  return out;
}

}  // namespace dbsplit::steps::revoke
