// Catalog reads and actions of the split step's schema mode (split_schema.h).
#include "steps/split/schema.h"

#include <map>
#include <set>

#include "fmt/format.h"
#include "relations/admin.h"
#include "relations/relations.h"
#include "sql/quote.h"
#include "sql/template.h"
#include "steps/split/compat.h"
#include "steps/split/refs.h"
#include "util/text.h"

namespace dbsplit::steps::split {
namespace {

constexpr const char* kLocate = R"SQL(
SELECT c.oid::text, n.nspname, c.relkind::text, pg_catalog.pg_get_userbyid(c.relowner)
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relname = $1 AND n.nspname IN ($2, $3)
   AND c.relkind IN ('r', 'p'))SQL";

constexpr const char* kPartitions = R"SQL(
SELECT c.oid::text, n.nspname, c.relname, c.relkind::text,
       pg_catalog.pg_get_userbyid(c.relowner)
  FROM pg_catalog.pg_partition_tree($1::oid::regclass) p
  JOIN pg_catalog.pg_class c ON c.oid = p.relid
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE p.level > 0 AND c.relkind IN ('r', 'p')
 ORDER BY p.level, c.relname)SQL";

constexpr const char* kTaken = R"SQL(
SELECT count(*) FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = $1 AND c.relname = $2)SQL";

constexpr const char* kOwnedSequences = R"SQL(
SELECT s.relname
  FROM pg_catalog.pg_depend d
  JOIN pg_catalog.pg_class s ON s.oid = d.objid AND s.relkind = 'S'
 WHERE d.classid = 'pg_catalog.pg_class'::regclass
   AND d.refobjid = $1::oid AND d.deptype IN ('a', 'i')
 ORDER BY s.relname)SQL";

constexpr const char* kRoleSettings = R"SQL(
SELECT (SELECT s.setconfig::text FROM pg_catalog.pg_db_role_setting s
         WHERE s.setrole = r.oid
           AND s.setdatabase = (SELECT oid FROM pg_catalog.pg_database WHERE datname = $2)),
       (SELECT s.setconfig::text FROM pg_catalog.pg_db_role_setting s
         WHERE s.setrole = r.oid AND s.setdatabase = 0),
       (SELECT s.setconfig::text FROM pg_catalog.pg_db_role_setting s
         WHERE s.setrole = 0
           AND s.setdatabase = (SELECT oid FROM pg_catalog.pg_database WHERE datname = $2)),
       (SELECT reset_val FROM pg_catalog.pg_settings WHERE name = 'search_path')
  FROM pg_catalog.pg_roles r
 WHERE r.rolname = $1)SQL";

// Functions and procedures kept as text (SQL without a standard body, PL/pgSQL):
// their names resolve through the caller's search_path when they run.
constexpr const char* kFunctions = R"SQL(
SELECT n.nspname, p.proname, pg_catalog.pg_get_function_identity_arguments(p.oid),
       l.lanname, p.prokind::text,
       CASE WHEN l.lanname = 'plpgsql' THEN pg_catalog.pg_get_functiondef(p.oid)
            ELSE p.prosrc END
  FROM pg_catalog.pg_proc p
  JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
  JOIN pg_catalog.pg_language l ON l.oid = p.prolang
 WHERE l.lanname IN ('sql', 'plpgsql')
   AND p.prokind IN ('f', 'p')
   AND n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND n.nspname NOT LIKE 'pg\_%'
   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                    WHERE d.classid = 'pg_catalog.pg_proc'::regclass
                      AND d.objid = p.oid AND d.deptype = 'e')
   AND {sqlbody}
 ORDER BY 1, 2, 3)SQL";

// Roles other than the owner group (and its members, and superusers) holding
// a privilege on a moving relation: they lose it unqualified, and without
// USAGE on the owner's schema at all. PUBLIC is grantee 0, shown bare; every
// role is shown as an identifier, so a role named "PUBLIC" reads apart.
constexpr const char* kReaders = R"SQL(
SELECT CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE pg_catalog.quote_ident(ge.rolname) END,
       n.nspname || '.' || c.relname,
       string_agg(DISTINCT x.privilege_type, ', ')
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 CROSS JOIN LATERAL pg_catalog.aclexplode(c.relacl) x
  LEFT JOIN pg_catalog.pg_roles ge ON ge.oid = x.grantee
 WHERE c.oid IN (SELECT value::oid FROM json_array_elements_text($1::json))
   AND x.grantee <> c.relowner
   AND (x.grantee = 0 OR (NOT ge.rolsuper AND NOT pg_catalog.pg_has_role(x.grantee, c.relowner, 'MEMBER')))
 GROUP BY 1, 2
 ORDER BY 1, 2)SQL";

// Views and materialized views reading a moving relation (bound by OID).
constexpr const char* kViews = R"SQL(
SELECT DISTINCT v.relkind::text, vn.nspname || '.' || v.relname
  FROM pg_catalog.pg_depend d
  JOIN pg_catalog.pg_rewrite w ON w.oid = d.objid
  JOIN pg_catalog.pg_class v ON v.oid = w.ev_class
  JOIN pg_catalog.pg_namespace vn ON vn.oid = v.relnamespace
 WHERE d.classid = 'pg_catalog.pg_rewrite'::regclass
   AND d.refclassid = 'pg_catalog.pg_class'::regclass
   AND d.refobjid IN (SELECT value::oid FROM json_array_elements_text($1::json))
   AND v.oid <> ALL (SELECT value::oid FROM json_array_elements_text($1::json))
 ORDER BY 2)SQL";

// setconfig is a text[] ({search_path=...,work_mem=...}): the element is
// picked in SQL rather than by parsing the array text here.
std::optional<std::string> pathSetting(pg::Session& catalog,
                                       const std::optional<std::string>& arr) {
  if (!arr) return std::nullopt;
  return catalog.scalar(
      "SELECT substr(e, length('search_path=') + 1) FROM unnest($1::text[]) e "
      "WHERE e LIKE 'search\\_path=%'",
      *arr);
}

}  // namespace

SchemaPlan readSchemaPlan(pg::Session& catalog, const plan::Plan& plan) {
  SchemaPlan sp;
  sp.superuser = relations::currentUserIsSuperuser(catalog);
  if (!sp.superuser) sp.create_holders = relations::createHolders(catalog);
  sp.database = *catalog.scalar("SELECT current_database()");
  std::vector<std::string> problems;
  std::set<std::string> seen;
  std::set<std::string> services;
  for (const plan::Table& t : plan.tables) {
    const std::string& svc = t.owner;
    // The schema may not exist yet: step ownership creates it, and the engine
    // runs split only after ownership (`dbsplit plan` shows every step before).
    services.insert(svc);
    pg::Result loc = catalog.execParams(kLocate, t.name.name, t.name.schema, svc);
    std::string root_oid, root_schema, root_owner;
    char root_kind = 'r';
    bool at_plan = false, at_target = false;
    for (const auto& row : loc) {
      if (row[1].as<std::string>() == t.name.schema) at_plan = true;
      if (row[1].as<std::string>() == svc) at_target = true;
    }
    if (!at_plan && !at_target) {
      problems.push_back(fmt::format("{}: table {} does not exist (nor {}.{})", t.pos.str(),
                                     t.name.display(), svc, t.name.name));
      continue;
    }
    if (at_plan && at_target && t.name.schema != svc) {
      problems.push_back(fmt::format("{}: {}.{} already exists, so {} cannot move there",
                                     t.pos.str(), svc, t.name.name, t.name.display()));
      continue;
    }
    for (const auto& row : loc) {
      bool want =
          at_plan ? row[1].as<std::string>() == t.name.schema : row[1].as<std::string>() == svc;
      if (!want) continue;
      root_oid = row[0].as<std::string>();
      root_schema = row[1].as<std::string>();
      root_kind = row[2].as<std::string>()[0];
      root_owner = row[3].as<std::string>();
    }
    std::vector<Move> rels;
    if (root_schema != svc) {
      rels.push_back({root_oid, {root_schema, t.name.name}, svc, root_kind, false, {}, root_owner});
    }
    for (const auto& row : catalog.execParams(kPartitions, root_oid)) {
      std::string schema = row[1].as<std::string>();
      if (schema == svc) continue;
      std::string name = row[2].as<std::string>();
      if (*catalog.scalar(kTaken, svc, name) != "0") {
        problems.push_back(
            fmt::format("{}: {}.{} already exists, so partition {}.{} cannot move "
                        "there",
                        t.pos.str(), svc, name, schema, name));
        continue;
      }
      rels.push_back({row[0].as<std::string>(),
                      {schema, name},
                      svc,
                      row[3].as<std::string>()[0],
                      true,
                      {},
                      row[4].as<std::string>()});
    }
    for (Move& m : rels) {
      if (!seen.insert(m.oid).second) continue;
      for (const auto& row : catalog.execParams(kOwnedSequences, m.oid)) {
        m.sequences.push_back(row[0].as<std::string>());
        if (*catalog.scalar(kTaken, svc, row[0].as<std::string>()) != "0") {
          problems.push_back(
              fmt::format("{}: {}.{} already exists, so the sequence of {} cannot "
                          "follow it there",
                          t.pos.str(), svc, row[0].as<std::string>(), m.from.display()));
        }
      }
      sp.moves.push_back(std::move(m));
    }
  }
  sp.sequence_moves = readSequenceMoves(catalog, plan, &problems);
  if (!problems.empty()) {
    throw Error::precondition(
        "split_tables",
        fmt::format("{} problem(s) with the tables to move; nothing changed", problems.size()),
        "fix the plan or the database and run again")
        .withDetails(problems);
  }

  for (const plan::Service& s : plan.services) {
    if (!services.count(s.name)) continue;
    for (const std::string& role : s.roles) {
      std::optional<RolePath> rp = readRolePath(catalog, role, s.name, sp.database);
      if (rp) sp.paths.push_back(std::move(*rp));
    }
  }

  // What the move would break, and what follows it.
  std::vector<std::string> oids;
  std::set<std::string> names;
  for (const Move& m : sp.moves) {
    oids.push_back(m.oid);
    names.insert(m.from.name);
    for (const std::string& q : m.sequences) names.insert(q);
  }
  for (const SequenceMove& m : sp.sequence_moves) names.insert(m.from.name);
  if (oids.empty()) return sp;
  std::string fq = kFunctions;
  fq.replace(
      fq.find("{sqlbody}"), 9,
      catalog.serverVersion() >= 140000 ? "(l.lanname <> 'sql' OR p.prosqlbody IS NULL)" : "true");
  std::set<std::string> service_schemas;
  for (const plan::Service& s : plan.services) service_schemas.insert(s.name);
  const auto targets = targetSchemas(sp.moves, sp.sequence_moves);
  for (const auto& row : catalog.exec(fq)) {
    std::string lang = row[3].as<std::string>();
    if (madeByDbsplit(service_schemas, row[0].as<std::string>(), row[1].as<std::string>(), lang,
                      row[5].as<std::string>())) {
      continue;
    }
    BodyRefs refs = unqualifiedRefs(lang, row[5].as<std::string>());
    std::vector<std::string> used = namesUsed(refs, names);
    if (used.empty()) continue;
    if (auto pin = readFunctionPin(catalog, row[0].as<std::string>(), row[1].as<std::string>(),
                                   row[2].as<std::string>(), row[4].as<std::string>(), refs, used,
                                   targets)) {
      sp.pins.push_back(std::move(*pin));
      continue;
    }
    sp.blocked.push_back(fmt::format("{} {}.{}({}) names {} without a schema",
                                     row[4].as<std::string>() == "p" ? "procedure" : "function",
                                     row[0].as<std::string>(), row[1].as<std::string>(),
                                     row[2].as<std::string>(), util::join(used, ", ")));
  }
  for (const auto& row : catalog.execParams(kReaders, util::jsonList(oids))) {
    sp.blocked.push_back(
        fmt::format("role {} has {} on {} but is not the owner: after the move it "
                    "needs the schema name and USAGE on it",
                    row[0].as<std::string>(), row[2].as<std::string>(), row[1].as<std::string>()));
  }
  for (const auto& row : catalog.execParams(kViews, util::jsonList(oids))) {
    sp.follow.push_back(fmt::format("{} {}",
                                    row[0].as<std::string>() == "m" ? "materialized view" : "view",
                                    row[1].as<std::string>()));
  }
  return sp;
}

std::optional<RolePath> readRolePath(pg::Session& catalog, const std::string& role,
                                     const std::string& schema, const std::string& datname) {
  pg::Result r = catalog.execParams(kRoleSettings, role, datname);
  if (r.empty()) return std::nullopt;  // a missing role is ownership's concern
  auto opt = [&](int i) -> std::optional<std::string> {
    return r[0][i].is_null() ? std::nullopt : std::optional<std::string>(r[0][i].c_str());
  };
  RolePath rp;
  rp.role = role;
  rp.service = schema;
  rp.prior = pathSetting(catalog, opt(0));
  std::optional<std::string> base = rp.prior;
  if (!base) base = pathSetting(catalog, opt(1));
  if (!base) base = pathSetting(catalog, opt(2));
  if (!base) base = opt(3);
  std::vector<std::string> elements = splitSearchPath(base.value_or("\"$user\", public"));
  if (rp.prior && !elements.empty() && elements.front() == schema) return std::nullopt;
  rp.after.push_back(schema);
  for (const std::string& e : elements) {
    if (e != schema) rp.after.push_back(e);
  }
  return rp;
}

engine::Action rolePathAction(const std::string& id_kind, const RolePath& p,
                              const std::string& database) {
  engine::Action a;
  a.id = "split/" + id_kind + "/" + p.role;
  a.description = fmt::format("role {} finds {}'s tables unqualified in database {}", p.role,
                              p.service, database);
  std::map<std::string, std::string> v = {{"role", sql::quoteIdent(p.role)},
                                          {"database", sql::quoteIdent(database)}};
  v["path"] = searchPathSql(p.after);
  a.forward = sql::renderTemplate("split/role_path_set.sql", v);
  if (p.prior) {
    v["path"] = searchPathSql(splitSearchPath(*p.prior));
    a.inverse = sql::renderTemplate("split/role_path_set.sql", v);
  } else {
    a.inverse = sql::renderTemplate("split/role_path_reset.sql", v);
  }
  a.lock = {"none", ""};
  return a;
}

std::vector<engine::Action> schemaActions(const SchemaPlan& sp) {
  std::vector<engine::Action> actions;
  // The owner roles' new search_path first: a session opened from then on finds
  // each table wherever it is at that moment (still here, or moved already).
  for (const RolePath& p : sp.paths)
    actions.push_back(rolePathAction("search_path", p, sp.database));
  for (engine::Action& a : pinActions(sp.pins)) actions.push_back(std::move(a));
  for (const Move& m : sp.moves) {
    engine::Action a;
    a.id = "split/move/" + m.from.display();
    std::string seqs = m.sequences.empty() ? "" : " with " + util::join(m.sequences, ", ");
    a.description =
        fmt::format("move {} {}{} into schema {}, leaving a compatibility view for older sessions",
                    m.partition ? "partition" : "table", m.from.display(), seqs, m.to_schema);
    CompatView v{m.from,
                 {m.to_schema, m.from.name},
                 m.owner,
                 !sp.superuser && !sp.create_holders.count({m.owner, m.from.schema})};
    a.forward = moveWithViewSql(v);
    a.inverse = moveBackSql(v);
    a.lock = {"ACCESS EXCLUSIVE", m.from.display()};
    actions.push_back(std::move(a));
  }
  for (engine::Action& a : sequenceMoveActions(sp.sequence_moves)) actions.push_back(std::move(a));
  return actions;
}

}  // namespace dbsplit::steps::split
