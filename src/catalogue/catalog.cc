// The in-memory catalog and how names resolve in it (PostgreSQL's rules:
// pg_catalog first unless listed, then the search_path in order).
#include "catalogue/catalog.h"

#include <algorithm>

namespace dbsplit::catalogue {

bool Relation::hasColumn(const std::string& c) const {
  return std::find(columns.begin(), columns.end(), c) != columns.end();
}

bool Trigger::fires(unsigned ev, const std::set<std::string>& set_columns) const {
  if (ev & events & (kInsert | kDelete | kTruncate)) return true;
  if (!(ev & events & kUpdate)) return false;
  if (columns.empty()) return true;
  for (const auto& c : columns) {
    if (set_columns.count(c)) return true;
  }
  return false;
}

bool isOutboxTrigger(const std::string& trigger, const std::string& function) {
  return (trigger == "dbsplit_outbox" || trigger == "dbsplit_outbox_truncate") &&
         function.rfind("outbox_", 0) == 0;
}

void Catalog::addRelation(Relation r) {
  by_name_[{r.schema, r.name}] = r.oid;
  if (r.root) partitions_[r.root].push_back(r.oid);
  if (r.made != Relation::Made::kNotByDbsplit) made_by_dbsplit_[r.display()] = r.made;
  relations_[r.oid] = std::move(r);
}

void Catalog::addFunction(Function f) {
  auto key = std::make_pair(f.schema, f.name);
  function_oids_[f.oid] = {key, functions_[key].size()};
  functions_[key].push_back(std::move(f));
}

const Function* Catalog::functionByOid(std::uint32_t oid) const {
  auto it = function_oids_.find(oid);
  if (it == function_oids_.end()) return nullptr;
  return &functions_.at(it->second.first)[it->second.second];
}

std::vector<std::pair<const Relation*, const Trigger*>> Catalog::triggersFiredBy(
    const Relation& rel, unsigned ev, const std::set<std::string>& set_columns,
    bool instead) const {
  std::vector<const Relation*> rels = {&rel};
  if (rel.root) {
    if (const Relation* root = byOid(rel.root)) rels.push_back(root);
  }
  auto parts = partitions_.find(rel.oid);
  if (parts != partitions_.end()) {
    for (std::uint32_t p : parts->second) {
      if (const Relation* part = byOid(p)) rels.push_back(part);
    }
  }
  std::vector<std::pair<const Relation*, const Trigger*>> out;
  for (const Relation* r : rels) {
    for (const auto& t : r->triggers) {
      if (t.instead == instead && t.fires(ev, set_columns)) out.emplace_back(r, &t);
    }
  }
  return out;
}

void Catalog::setRoleSearchPath(const std::string& role, const std::string& path) {
  role_paths_[role] = path;
}

std::vector<std::string> parseSearchPath(const std::string& text, const std::string& role) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == ',' || text[i] == '\t')) ++i;
    if (i >= text.size()) break;
    std::string name;
    if (text[i] == '"') {
      ++i;
      while (i < text.size()) {
        if (text[i] == '"' && i + 1 < text.size() && text[i + 1] == '"') {
          name += '"';
          i += 2;
        } else if (text[i] == '"') {
          ++i;
          break;
        } else {
          name += text[i++];
        }
      }
    } else {
      while (i < text.size() && text[i] != ',' && text[i] != ' ' && text[i] != '\t') {
        char c = text[i++];
        name += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
      }
    }
    if (name == "$user") {
      if (!role.empty()) out.push_back(role);
    } else if (!name.empty()) {
      out.push_back(name);
    }
  }
  return out;
}

std::vector<std::string> Catalog::searchPath(const std::string& role) const {
  auto it = role_paths_.find(role);
  return parseSearchPath(it != role_paths_.end() ? it->second : default_path_, role);
}

Relation::Made Catalog::madeBy(const std::string& display) const {
  auto it = made_by_dbsplit_.find(display);
  return it == made_by_dbsplit_.end() ? Relation::Made::kNotByDbsplit : it->second;
}

const Relation* Catalog::byOid(std::uint32_t oid) const {
  auto it = relations_.find(oid);
  return it == relations_.end() ? nullptr : &it->second;
}

const Relation* Catalog::find(const std::string& schema, const std::string& name) const {
  auto it = by_name_.find({schema, name});
  return it == by_name_.end() ? nullptr : byOid(it->second);
}

std::optional<const Relation*> Catalog::resolve(const std::string& schema, const std::string& name,
                                                const std::vector<std::string>& path) const {
  if (!schema.empty()) {
    // System schemas, and dbsplit's own marker table: not application data.
    if (schema == "pg_catalog" || schema == "information_schema" || schema == "dbsplit") {
      return nullptr;
    }
    if (const Relation* r = find(schema, name)) return r;
    return std::nullopt;
  }
  bool catalog_listed = std::find(path.begin(), path.end(), "pg_catalog") != path.end();
  if (!catalog_listed && system_relations_.count(name)) return nullptr;
  for (const auto& s : path) {
    if (s == "pg_catalog") {
      if (system_relations_.count(name)) return nullptr;
      continue;
    }
    if (const Relation* r = find(s, name)) return r;
  }
  return std::nullopt;
}

std::vector<const Function*> Catalog::functions(const std::string& schema, const std::string& name,
                                                int nargs,
                                                const std::vector<std::string>& path) const {
  auto matching = [&](const std::string& s) {
    std::vector<const Function*> out;
    auto it = functions_.find({s, name});
    if (it == functions_.end()) return out;
    for (const auto& f : it->second) {
      bool fits = (nargs <= f.nargs && nargs >= f.nargs - f.ndefaults) ||
                  (f.variadic && nargs >= f.nargs - 1);
      if (fits) out.push_back(&f);
    }
    return out;
  };
  if (!schema.empty()) return matching(schema);
  for (const auto& s : path) {
    auto found = matching(s);
    if (!found.empty()) return found;
  }
  return {};
}

}  // namespace dbsplit::catalogue
