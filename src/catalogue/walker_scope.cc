// The other half of the walk: FROM items and scopes, expressions, column
// references, and how accesses are recorded (partitions to roots, views
// expanded, nested analyses merged).
#include "catalogue/walker.h"

#include "catalogue/walker_json.h"
#include "fmt/format.h"
#include "util/text.h"

namespace dbsplit::catalogue {

using nlohmann::json;

// ---- FROM items and expressions ---------------------------------------------

void Walker::from(const json& node, Scope* s) {
  if (!node.is_object() || node.size() != 1) return;
  const std::string& type = node.begin().key();
  const json& body = node.begin().value();
  std::string alias = str(get(body, "alias"), "aliasname");
  if (type == "RangeVar") {
    bool cte = false;
    const Relation* rel = resolve(body, s, &cte);
    if (rel) {
      read(rel, {});
      s->items.push_back(targetItem(body, rel));
    } else {
      s->items.push_back({alias.empty() ? str(body, "relname") : alias, "", nullptr, true});
    }
  } else if (type == "JoinExpr") {
    from(get(body, "larg"), s);
    from(get(body, "rarg"), s);
    for (const auto& u : get(body, "usingClause")) {
      std::string col = sval(u);
      for (const auto& item : s->items) {
        if (item.rel && item.rel->hasColumn(col)) readItem(item, col);
      }
    }
    expr(get(body, "quals"), s);
    if (!alias.empty()) s->items.push_back({alias, "", nullptr, true});
  } else if (type == "RangeSubselect") {
    expr(get(body, "subquery"), s);
    s->items.push_back({alias, "", nullptr, true});
  } else {  // RangeFunction, RangeTableSample, RangeTableFunc, ...
    expr(body, s);
    s->items.push_back({alias, "", nullptr, true});
  }
}

void Walker::expr(const json& node, Scope* s) {
  if (node.is_array()) {
    for (const auto& n : node) expr(n, s);
    return;
  }
  if (!node.is_object()) return;
  for (auto it = node.begin(); it != node.end(); ++it) {
    const std::string& key = it.key();
    if (!isNodeType(key)) {
      expr(it.value(), s);
    } else if (key == "ColumnRef") {
      column(it.value(), s);
    } else if (key == "SelectStmt" || key == "InsertStmt" || key == "UpdateStmt" ||
               key == "DeleteStmt" || key == "MergeStmt") {
      dispatch(key, it.value(), s);
    } else if (key == "FuncCall") {
      function(it.value());
      expr(it.value(), s);
    } else if (key == "RangeVar") {
      // Only where the grammar names a relation outside FROM; handled by callers.
    } else {
      expr(it.value(), s);
    }
  }
}

void Walker::column(const json& body, Scope* s) {
  std::vector<std::string> parts;
  bool star = false;
  for (const auto& f : get(body, "fields")) {
    if (f.contains("A_Star")) {
      star = true;
    } else {
      parts.push_back(sval(f));
    }
  }
  if (!s || (!star && parts.empty())) return;
  if (star && parts.empty()) {
    for (const auto& item : s->items) readAll(item);
    return;
  }
  // A qualified reference: the last part names the column unless it is `*`.
  size_t qual_len = star ? parts.size() : parts.size() - 1;
  if (qual_len >= 1) {
    const std::string& table = parts[qual_len - 1];
    std::string schema = qual_len >= 2 ? parts[qual_len - 2] : std::string();
    for (Scope* sc = s; sc; sc = sc->parent) {
      for (auto it = sc->items.rbegin(); it != sc->items.rend(); ++it) {
        if (it->alias != table || (!schema.empty() && it->schema != schema)) continue;
        if (star) {
          readAll(*it);
        } else {
          readItem(*it, parts.back());
        }
        return;
      }
    }
    return;  // a composite field, a NEW/OLD record, a PL/pgSQL row variable
  }
  const std::string& col = parts.back();
  for (Scope* sc = s; sc; sc = sc->parent) {
    bool opaque = false;
    for (const auto& item : sc->items) {
      if (item.rel && item.rel->hasColumn(col)) {
        readItem(item, col);
        return;
      }
      opaque = opaque || item.opaque;
    }
    if (opaque) return;  // most likely a column of the subquery or CTE at this level
  }
}

void Walker::function(const json& body) {
  std::vector<std::string> name;
  for (const auto& n : get(body, "funcname")) name.push_back(sval(n));
  if (name.empty()) return;
  std::string schema = name.size() >= 2 ? name[name.size() - 2] : std::string();
  int nargs = static_cast<int>(get(body, "args").size());
  for (const Function* f : cat_.functions(schema, name.back(), nargs, path_)) {
    merge(an_.functionAccesses(*f, path_), "function " + f->identity, "in function " + f->identity);
  }
}

// ---- recording accesses ----------------------------------------------------

const Relation* Walker::resolve(const json& rv, Scope* s, bool* is_cte) {
  std::string schema = str(rv, "schemaname");
  std::string name = str(rv, "relname");
  *is_cte = false;
  if (name.empty()) return nullptr;
  if (schema.empty()) {
    for (Scope* sc = s; sc; sc = sc->parent) {
      if (sc->ctes.count(name)) {
        *is_cte = true;
        return nullptr;
      }
    }
  }
  auto found = cat_.resolve(schema, name, path_);
  if (!found) {
    problem(schema.empty() ? fmt::format("relation \"{}\" not found in search_path ({})", name,
                                         path_.empty() ? "empty" : util::join(path_, ", "))
                           : fmt::format("relation \"{}.{}\" does not exist", schema, name));
    return nullptr;
  }
  return *found;
}

const Relation* Walker::base(const Relation* rel) const {
  if (rel && rel->root) {
    if (const Relation* root = cat_.byOid(rel->root)) return root;
  }
  return rel;
}

Walker::Item Walker::targetItem(const json& rv, const Relation* rel) const {
  std::string alias = str(get(rv, "alias"), "aliasname");
  return {alias.empty() ? str(rv, "relname") : alias, alias.empty() ? rel->schema : "", rel, false};
}

void Walker::read(const Relation* rel, const std::set<std::string>& cols) {
  if (!rel) return;
  if (rel->kind == 'v') {
    merge(an_.viewAccesses(*rel, path_), "view " + rel->display(), "in view " + rel->display());
    return;
  }
  rel = base(rel);
  auto key = std::make_tuple(rel->display(), false, std::string());
  if (!acc_.count(key)) order_.push_back(key);
  acc_[key].insert(cols.begin(), cols.end());
}

void Walker::readItem(const Item& item, const std::string& col) {
  if (item.rel && item.rel->kind != 'v' && item.rel->hasColumn(col)) read(item.rel, {col});
}

void Walker::readAll(const Item& item) {
  if (item.rel && item.rel->kind != 'v') read(item.rel, allColumns(item.rel));
}

void Walker::write(const Relation* rel, const std::set<std::string>& cols, unsigned events,
                   const std::set<std::string>& set_cols) {
  if (!rel) return;
  std::string via;
  if (rel->kind == 'v') {
    // INSTEAD OF triggers and DO INSTEAD rules replace the write through the
    // view; DO ALSO rules run besides it.
    if (events && fire(*rel, events, set_cols, true)) return;
    via = "view " + rel->display();
    const Relation* target = an_.updatableBase(*rel);
    if (!target) {
      problem(
          fmt::format("writes through view {}, which is not a single-table view and has no "
                      "INSTEAD OF trigger or DO INSTEAD rule for this statement",
                      rel->display()));
      return;
    }
    rel = target;
  }
  const Relation* named = rel;  // a partition's own triggers fire too
  rel = base(rel);
  auto key = std::make_tuple(rel->display(), true, via);
  if (!acc_.count(key)) order_.push_back(key);
  std::set<std::string>& into = acc_[key];
  for (const auto& c : cols) {
    if (rel->hasColumn(c)) into.insert(c);
  }
  if (events) fire(*named, events, set_cols, false);
}

bool Walker::fire(const Relation& rel, unsigned events, const std::set<std::string>& set_cols,
                  bool instead) {
  bool replaced = false;
  for (const auto& [on, trigger] : cat_.triggersFiredBy(rel, events, set_cols, instead)) {
    replaced = true;
    // A function outside the user schemas (pg_catalog's
    // tsvector_update_trigger, suppress_redundant_updates_trigger, ...) touches
    // no other table.
    const Function* f = cat_.functionByOid(trigger->function);
    if (!f) continue;
    std::string via = "trigger " + trigger->name + " on " + on->display();
    merge(an_.functionAccesses(*f, path_), via, "in " + via);
  }
  // Rules fire on the relation the statement names (a partition's rules only
  // when it is named), DO ALSO and DO INSTEAD alike.
  for (const auto& rule : rel.rules) {
    if (!(rule.events & events)) continue;
    replaced = replaced || (instead && rule.instead);
    std::string via = "rule " + rule.name + " on " + rel.display();
    merge(an_.ruleAccesses(rule, path_), via, "in " + via);
  }
  return replaced;
}

void Walker::merge(const ShapeAnalysis& nested, const std::string& via,
                   const std::string& context) {
  for (const auto& a : nested.accesses) {
    auto key = std::make_tuple(a.table, a.write, via.empty() ? a.via : via);
    if (!acc_.count(key)) order_.push_back(key);
    acc_[key].insert(a.columns.begin(), a.columns.end());
  }
  for (const auto& p : nested.problems) problems_.push_back(context + ": " + p);
}

std::set<std::string> Walker::targetNames(const json& list) const {
  std::set<std::string> out;
  for (const auto& t : list) {
    std::string n = str(get(t, "ResTarget"), "name");
    if (!n.empty()) out.insert(n);
  }
  return out;
}

std::set<std::string> Walker::allColumns(const Relation* rel) const {
  if (!rel) return {};
  return std::set<std::string>(rel->columns.begin(), rel->columns.end());
}

ShapeAnalysis Walker::result() const {
  ShapeAnalysis out;
  for (const auto& key : order_) {
    out.accesses.push_back({std::get<0>(key), std::get<1>(key), acc_.at(key), std::get<2>(key)});
  }
  out.problems = problems_;
  return out;
}

}  // namespace dbsplit::catalogue
