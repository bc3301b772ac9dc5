// Walking libpg_query's JSON parse tree. Node objects are wrapped by type
// ({"SelectStmt": {...}}) except where the grammar fixes the type (a set
// operation's larg/rarg, InsertStmt.relation), which the walk knows.
#include "catalogue/walker.h"

#include "catalogue/walker_json.h"
#include "fmt/format.h"
#include "util/text.h"

namespace dbsplit::catalogue {

using nlohmann::json;

// ---- statements -----------------------------------------------------------

void Walker::statement(const json& node) {
  if (!node.is_object() || node.size() != 1) return;
  dispatch(node.begin().key(), node.begin().value(), nullptr);
}

void Walker::anyStatements(const json& node) {
  if (node.is_array()) {
    for (const auto& n : node) anyStatements(n);
  } else if (node.is_object()) {
    for (auto it = node.begin(); it != node.end(); ++it) {
      const std::string& k = it.key();
      if (k == "SelectStmt" || k == "InsertStmt" || k == "UpdateStmt" || k == "DeleteStmt" ||
          k == "MergeStmt") {
        dispatch(k, it.value(), nullptr);
      } else {
        anyStatements(it.value());
      }
    }
  }
}

void Walker::dispatch(const std::string& type, const json& body, Scope* s) {
  if (type == "SelectStmt") {
    select(body, s);
  } else if (type == "InsertStmt") {
    insert(body, s);
  } else if (type == "UpdateStmt") {
    update(body, s);
  } else if (type == "DeleteStmt") {
    remove(body, s);
  } else if (type == "MergeStmt") {
    merge(body, s);
  } else if (type == "CopyStmt") {
    copy(body);
  } else if (type == "TruncateStmt") {
    for (const auto& rv : get(body, "relations")) {
      bool cte = false;
      write(resolve(get(rv, "RangeVar"), nullptr, &cte), {}, kTruncate);
    }
  } else if (type == "CallStmt") {
    expr(get(body, "funccall"), s);
    function(get(body, "funccall"));
  } else if (type == "ExplainStmt" || type == "PrepareStmt" || type == "CreateTableAsStmt" ||
             type == "DeclareCursorStmt") {
    statement(get(body, "query"));
  } else if (type == "ExecuteStmt") {
    problem(fmt::format("EXECUTE {}: the tables are in its PREPARE, catalogued where it was seen",
                        str(body, "name")));
  } else if (type == "DoStmt") {
    std::string code, language = "plpgsql";
    for (const auto& arg : get(body, "args")) {
      const json& d = get(arg, "DefElem");
      if (str(d, "defname") == "as") code = sval(get(d, "arg"));
      if (str(d, "defname") == "language") language = sval(get(d, "arg"));
    }
    if (language != "plpgsql") {
      problem("DO block in language " + language + " is not analysed");
      return;
    }
    std::string fn = "CREATE FUNCTION dbsplit_do() RETURNS void LANGUAGE plpgsql AS $dbsplit_do$" +
                     code + "$dbsplit_do$";
    merge(an_.analyzePlpgsql(fn, path_), "", "in DO block");
  }
  // Everything else (SET, BEGIN, DDL, ...) reads and writes no table data.
}

void Walker::withClause(const json& body, Scope* s) {
  const json& with = get(get(body, "withClause"), "ctes");
  for (const auto& c : with) s->ctes.insert(str(get(c, "CommonTableExpr"), "ctename"));
  for (const auto& c : with) {
    const json& q = get(get(c, "CommonTableExpr"), "ctequery");
    if (q.is_object() && q.size() == 1) dispatch(q.begin().key(), q.begin().value(), s);
  }
}

void Walker::select(const json& body, Scope* parent) {
  Scope s;
  s.parent = parent;
  withClause(body, &s);
  if (str(body, "op") != "SETOP_NONE" && get(body, "larg").is_object()) {
    select(get(body, "larg"), &s);
    select(get(body, "rarg"), &s);
  }
  expr(get(body, "valuesLists"), &s);
  for (const auto& item : get(body, "fromClause")) from(item, &s);
  for (const char* key :
       {"targetList", "whereClause", "groupClause", "havingClause", "windowClause", "sortClause",
        "distinctClause", "limitCount", "limitOffset"}) {
    expr(get(body, key), &s);
  }
  lockFor(get(body, "lockingClause"), &s);
}

void Walker::insert(const json& body, Scope* parent) {
  Scope s;
  s.parent = parent;
  withClause(body, &s);
  bool cte = false;
  const Relation* rel = resolve(get(body, "relation"), &s, &cte);
  std::set<std::string> cols = targetNames(get(body, "cols"));
  if (cols.empty()) cols = allColumns(rel);
  const json& sel = get(body, "selectStmt");
  if (sel.is_object() && sel.size() == 1) dispatch(sel.begin().key(), sel.begin().value(), &s);
  Scope t;
  t.parent = &s;
  if (rel) t.items.push_back(targetItem(get(body, "relation"), rel));
  t.items.push_back({"excluded", "", nullptr, true});  // the proposed row, not a read
  const json& conflict = get(body, "onConflictClause");
  auto set_cols = targetNames(get(conflict, "targetList"));
  cols.insert(set_cols.begin(), set_cols.end());
  expr(get(conflict, "targetList"), &t);
  expr(get(conflict, "whereClause"), &t);
  expr(get(body, "returningList"), &t);
  // ON CONFLICT DO UPDATE fires insert triggers and, for conflicting rows, update ones.
  bool upsert = str(conflict, "action") == "ONCONFLICT_UPDATE";
  write(rel, cols, kInsert | (upsert ? kUpdate : 0u), set_cols);
}

void Walker::update(const json& body, Scope* parent) {
  Scope s;
  s.parent = parent;
  withClause(body, &s);
  bool cte = false;
  const Relation* rel = resolve(get(body, "relation"), &s, &cte);
  if (rel) s.items.push_back(targetItem(get(body, "relation"), rel));
  for (const auto& item : get(body, "fromClause")) from(item, &s);
  expr(get(body, "targetList"), &s);
  expr(get(body, "whereClause"), &s);
  expr(get(body, "returningList"), &s);
  auto set_cols = targetNames(get(body, "targetList"));
  write(rel, set_cols, kUpdate, set_cols);
}

void Walker::remove(const json& body, Scope* parent) {
  Scope s;
  s.parent = parent;
  withClause(body, &s);
  bool cte = false;
  const Relation* rel = resolve(get(body, "relation"), &s, &cte);
  if (rel) s.items.push_back(targetItem(get(body, "relation"), rel));
  for (const auto& item : get(body, "usingClause")) from(item, &s);
  expr(get(body, "whereClause"), &s);
  expr(get(body, "returningList"), &s);
  write(rel, {}, kDelete);
}

void Walker::merge(const json& body, Scope* parent) {
  Scope s;
  s.parent = parent;
  withClause(body, &s);
  bool cte = false;
  const Relation* rel = resolve(get(body, "relation"), &s, &cte);
  if (rel) s.items.push_back(targetItem(get(body, "relation"), rel));
  from(get(body, "sourceRelation"), &s);
  expr(get(body, "joinCondition"), &s);
  std::set<std::string> cols, set_cols;
  unsigned events = 0;
  for (const auto& w : get(body, "mergeWhenClauses")) {
    const json& clause = get(w, "MergeWhenClause");
    auto names = targetNames(get(clause, "targetList"));
    const std::string command = str(clause, "commandType");
    if (command == "CMD_INSERT") {
      events |= kInsert;
      if (names.empty()) names = allColumns(rel);
    } else if (command == "CMD_UPDATE") {
      events |= kUpdate;
      set_cols.insert(names.begin(), names.end());
    } else if (command == "CMD_DELETE") {
      events |= kDelete;
    }
    cols.insert(names.begin(), names.end());
    expr(get(clause, "condition"), &s);
    expr(get(clause, "targetList"), &s);
    expr(get(clause, "values"), &s);
  }
  write(rel, cols, events, set_cols);
}

void Walker::copy(const json& body) {
  if (get(body, "query").is_object()) {
    statement(get(body, "query"));
    return;
  }
  bool cte = false;
  const Relation* rel = resolve(get(body, "relation"), nullptr, &cte);
  std::set<std::string> cols;
  for (const auto& a : get(body, "attlist")) cols.insert(sval(a));
  if (cols.empty()) cols = allColumns(rel);
  if (get(body, "is_from").is_boolean() && get(body, "is_from").get<bool>()) {
    write(rel, cols, kInsert);  // COPY FROM fires insert triggers
  } else {
    read(rel, cols);
  }
}

void Walker::lockFor(const json& locking, Scope* s) {
  // SELECT ... FOR UPDATE/SHARE needs UPDATE privilege: a write intent.
  for (const auto& l : locking) {
    const json& rels = get(get(l, "LockingClause"), "lockedRels");
    for (const auto& item : s->items) {
      if (!item.rel) continue;
      bool named = rels.empty();
      for (const auto& rv : rels)
        named = named || str(get(rv, "RangeVar"), "relname") == item.alias;
      if (named) write(item.rel, {}, 0);
    }
  }
}

}  // namespace dbsplit::catalogue
