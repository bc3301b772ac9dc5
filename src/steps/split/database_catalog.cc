// Catalog reads of the split step's database mode (database.h): what the
// source and each target database look like, collected into DatabaseFacts
// for the gates (database_gates.cc) and the actions (database_actions.cc).
#include <algorithm>
#include <map>
#include <set>

#include "fmt/format.h"
#include "pg/conninfo.h"
#include "sql/quote.h"
#include "steps/split/database.h"
#include "util/text.h"

namespace dbsplit::steps::split {
namespace {

constexpr const char* kInSchema = R"SQL(
SELECT c.oid::text, c.relname, c.relkind::text, c.relispartition
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = $1 AND c.relkind IN ('r', 'p')
 ORDER BY c.relname)SQL";

constexpr const char* kNoIdentity = R"SQL(
SELECT n.nspname || '.' || c.relname
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE c.oid IN (SELECT value::oid FROM json_array_elements_text($1::json))
   AND c.relkind = 'r'
   AND (c.relreplident = 'n'
        OR (c.relreplident = 'd' AND NOT EXISTS (
              SELECT 1 FROM pg_catalog.pg_index i WHERE i.indrelid = c.oid AND i.indisprimary)))
 ORDER BY 1)SQL";

// What `pg_dump -n <schema>` would not carry, or what would dangle on the source.
constexpr const char* kOutside = R"SQL(
WITH rels AS (SELECT value::oid AS oid FROM json_array_elements_text($1::json)),
     s AS (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = $2)
SELECT format('foreign key %s of %s references %s, which does not move', con.conname,
              con.conrelid::regclass, con.confrelid::regclass)
  FROM pg_catalog.pg_constraint con
 WHERE con.contype = 'f' AND con.conrelid IN (SELECT oid FROM rels)
   AND con.confrelid NOT IN (SELECT oid FROM rels)
UNION ALL
SELECT format('foreign key %s of %s references %s, which moves away', con.conname,
              con.conrelid::regclass, con.confrelid::regclass)
  FROM pg_catalog.pg_constraint con
 WHERE con.contype = 'f' AND con.confrelid IN (SELECT oid FROM rels)
   AND con.conrelid NOT IN (SELECT oid FROM rels)
UNION ALL
SELECT format('trigger %s on %s calls %s, outside schema %s', t.tgname, t.tgrelid::regclass,
              t.tgfoid::regprocedure, $2)
  FROM pg_catalog.pg_trigger t
  JOIN pg_catalog.pg_proc p ON p.oid = t.tgfoid
 WHERE NOT t.tgisinternal AND t.tgrelid IN (SELECT oid FROM rels)
   AND p.pronamespace NOT IN (SELECT oid FROM s)
UNION ALL
SELECT format('column %s of %s has type %s, outside schema %s', a.attname, a.attrelid::regclass,
              pg_catalog.format_type(a.atttypid, a.atttypmod), $2)
  FROM pg_catalog.pg_attribute a
  JOIN pg_catalog.pg_type ty ON ty.oid = a.atttypid
  JOIN pg_catalog.pg_namespace tn ON tn.oid = ty.typnamespace
 WHERE a.attrelid IN (SELECT oid FROM rels) AND a.attnum > 0 AND NOT a.attisdropped
   AND tn.nspname NOT IN ('pg_catalog', 'information_schema')
   AND tn.oid NOT IN (SELECT oid FROM s)
   AND ty.typrelid NOT IN (SELECT oid FROM rels))SQL";

// Write privileges per grantee; a NULL ACL means the owner's defaults. PUBLIC
// is grantee 0 and comes back as '' (a role may be named "PUBLIC").
constexpr const char* kWriteAcl = R"SQL(
SELECT c.oid::text, CASE WHEN x.grantee = 0 THEN '' ELSE ge.rolname END,
       x.privilege_type, x.is_grantable
  FROM pg_catalog.pg_class c
 CROSS JOIN LATERAL pg_catalog.aclexplode(
       coalesce(c.relacl, pg_catalog.acldefault('r', c.relowner)))
       WITH ORDINALITY AS x(grantor, grantee, privilege_type, is_grantable, n)
  LEFT JOIN pg_catalog.pg_roles ge ON ge.oid = x.grantee
 WHERE c.oid IN (SELECT value::oid FROM json_array_elements_text($1::json))
   AND x.privilege_type IN ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE')
 ORDER BY c.oid, x.n)SQL";

// "Empty": no schema but public (and the system ones), nothing in public that
// is not part of an extension (a new database may inherit extensions from its
// template), no subscription, no publication. What dbsplit itself put there
// for the service in step 4 does not count: the service's schema ($1) holding
// only its projections and relay tables (names in $2), and dbsplit's marker
// schema holding only its marker table.
constexpr const char* kNotEmpty = R"SQL(
WITH ext AS (SELECT classid, objid FROM pg_catalog.pg_depend WHERE deptype = 'e'),
     allowed AS (SELECT value AS relname FROM json_array_elements_text($2::json))
SELECT 'schema ' || nspname FROM pg_catalog.pg_namespace
 WHERE nspname NOT IN ('public', 'information_schema', $1, 'dbsplit')
   AND nspname NOT LIKE 'pg\_%'
   AND oid NOT IN (SELECT objid FROM ext WHERE classid = 'pg_catalog.pg_namespace'::regclass)
UNION ALL
SELECT 'relation ' || n.nspname || '.' || c.relname
  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE c.oid NOT IN (SELECT objid FROM ext WHERE classid = 'pg_catalog.pg_class'::regclass)
   AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
   AND (n.nspname = 'public'
        OR (n.nspname = $1 AND c.relname NOT IN (SELECT relname FROM allowed))
        OR (n.nspname = 'dbsplit' AND c.relname <> 'applied'))
UNION ALL
SELECT 'function ' || p.oid::regprocedure::text
  FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname IN ('public', $1, 'dbsplit')
   AND p.oid NOT IN (SELECT objid FROM ext WHERE classid = 'pg_catalog.pg_proc'::regclass)
UNION ALL
SELECT 'subscription ' || subname FROM pg_catalog.pg_subscription
 WHERE subdbid = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())
UNION ALL
SELECT 'publication ' || pubname FROM pg_catalog.pg_publication
 ORDER BY 1
 LIMIT 20)SQL";

// Every relation name in schema $1 (indexes and sequences too: they share the
// schema's namespace with the tables the copy creates).
constexpr const char* kNamesInSchema = R"SQL(
SELECT c.relname
  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = $1 AND c.relkind NOT IN ('t')
 ORDER BY 1)SQL";

// The names the schema copy creates: the service's relations ($1, oids), their
// indexes and the sequences they own, and everything else already in schema $2.
constexpr const char* kCopiedNames = R"SQL(
WITH rels AS (SELECT value::oid AS oid FROM json_array_elements_text($1::json))
SELECT c.relname FROM pg_catalog.pg_class c WHERE c.oid IN (SELECT oid FROM rels)
UNION
SELECT ic.relname FROM pg_catalog.pg_index i
  JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
 WHERE i.indrelid IN (SELECT oid FROM rels)
UNION
SELECT sc.relname FROM pg_catalog.pg_depend d
  JOIN pg_catalog.pg_class sc ON sc.oid = d.objid AND sc.relkind = 'S'
 WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.refobjid IN (SELECT oid FROM rels)
   AND d.deptype IN ('a', 'i')
UNION
SELECT c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = $2 AND c.relkind NOT IN ('t')
 ORDER BY 1)SQL";

// What the copy creates in schema $1 besides the tables (which the rollback
// drops by name): views, sequences no table owns, routines and types, as DROP
// statements in a safe order (views before what they read).
constexpr const char* kCopiedOthers = R"SQL(
SELECT o, stmt FROM (
  SELECT 1 AS o, format('DROP %s IF EXISTS %I.%I;',
                        CASE c.relkind WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'VIEW' END,
                        n.nspname, c.relname) AS stmt, c.relname AS k
    FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = $1 AND c.relkind IN ('v', 'm')
  UNION ALL
  SELECT 2, format('DROP SEQUENCE IF EXISTS %I.%I;', n.nspname, c.relname), c.relname
    FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = $1 AND c.relkind = 'S'
     AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                      WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid
                        AND d.deptype IN ('a', 'i'))
  UNION ALL
  SELECT 3, format('DROP ROUTINE IF EXISTS %I.%I(%s);', n.nspname, p.proname,
                   pg_catalog.pg_get_function_identity_arguments(p.oid)), p.proname
    FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
   WHERE n.nspname = $1 AND p.prokind IN ('f', 'p')
  UNION ALL
  SELECT 4, format('DROP TYPE IF EXISTS %I.%I;', n.nspname, t.typname), t.typname
    FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
   WHERE n.nspname = $1 AND t.typtype IN ('c', 'd', 'e', 'r', 'm')
     AND t.typelem = 0
     AND (t.typrelid = 0 OR (SELECT relkind FROM pg_catalog.pg_class WHERE oid = t.typrelid) = 'c')
) x ORDER BY o, k)SQL";

// Roles the schema copy refers to: owners and grantees of the service's
// relations and of its schema (PUBLIC is no role).
constexpr const char* kRolesUsed = R"SQL(
SELECT DISTINCT r.rolname FROM (
  SELECT c.relowner AS id FROM pg_catalog.pg_class c
   WHERE c.oid IN (SELECT value::oid FROM json_array_elements_text($1::json))
  UNION ALL
  SELECT a.grantee FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) a
   WHERE c.oid IN (SELECT value::oid FROM json_array_elements_text($1::json))
  UNION ALL
  SELECT n.nspowner FROM pg_catalog.pg_namespace n WHERE n.nspname = $2
  UNION ALL
  SELECT a.grantee FROM pg_catalog.pg_namespace n, pg_catalog.aclexplode(n.nspacl) a
   WHERE n.nspname = $2
) x JOIN pg_catalog.pg_roles r ON r.oid = x.id ORDER BY 1)SQL";

constexpr const char* kSystemId =
    "SELECT system_identifier::text FROM pg_catalog.pg_control_system()";

void readTarget(TargetFacts& t, const plan::Service& service, const std::string& source_system_id,
                const std::string& app, const std::vector<std::string>& allowed) {
  pg::ConnectOptions opts;
  opts.dsn = t.dsn;
  opts.application_name = app;
  opts.read_only = true;
  opts.connect_timeout_s = 5;
  std::unique_ptr<pg::Session> session;
  try {
    session = pg::Session::connect(opts);
    t.exists = true;
  } catch (const Error& e) {
    std::string why = e.what();
    if (why.find("does not exist") == std::string::npos) {
      t.error = why;
      return;
    }
    opts.dsn = pg::buildConninfo(t.dsn, {{"dbname", "postgres"}});
    try {
      session = pg::Session::connect(opts);
    } catch (const Error& e2) {
      t.error = e2.what();
      return;
    }
  }
  t.superuser = session->scalar(
                    "SELECT rolsuper::text FROM pg_catalog.pg_roles "
                    "WHERE rolname = current_user") == std::optional<std::string>("true");
  t.server_version = std::stoi(
      session->scalar("SELECT pg_catalog.current_setting('server_version_num')").value_or("0"));
  t.create_subscription = t.superuser;
  if (!t.superuser && t.server_version >= 160000) {
    t.create_subscription =
        session->scalar(
            "SELECT pg_catalog.pg_has_role(current_user, 'pg_create_subscription', "
            "'USAGE')::text") == std::optional<std::string>("true");
  }
  try {
    std::string id = session->scalar(kSystemId).value_or("");
    t.same_cluster = id == source_system_id;
    t.server = id;
  } catch (const Error&) {
    t.same_cluster = false;  // pg_control_system() is for superusers by default
  }
  if (t.server.empty()) {
    auto kv = pg::parseConninfo(t.dsn);
    t.server = kv["host"] + ":" + kv["port"];
  }
  // pg_stat_subscription lists the workers of every database's subscriptions.
  t.free_workers =
      std::stoi(session
                    ->scalar("SELECT current_setting('max_logical_replication_workers')::int"
                             " - (SELECT count(*) FROM pg_catalog.pg_stat_subscription"
                             "     WHERE pid IS NOT NULL)")
                    .value_or("-1"));
  if (!t.same_cluster) {
    std::set<std::string> there;
    for (const auto& row :
         session->execParams("SELECT rolname FROM pg_catalog.pg_roles WHERE rolname IN "
                             "(SELECT value FROM json_array_elements_text($1::json))",
                             util::jsonList(t.roles_needed))) {
      there.insert(row[0].c_str());
    }
    for (const std::string& role : t.roles_needed) {
      if (!there.count(role)) t.missing_roles.push_back(role);
    }
  }
  if (!t.exists) return;
  if (!t.same_cluster) {
    // The owner roles find the service's tables unqualified on that server too.
    t.paths_remote = true;
    for (const std::string& role : service.roles) {
      if (std::find(t.missing_roles.begin(), t.missing_roles.end(), role) !=
          t.missing_roles.end()) {
        continue;
      }
      std::optional<RolePath> rp = readRolePath(*session, role, service.name, t.dbname);
      if (rp) t.paths.push_back(std::move(*rp));
    }
  }
  for (const auto& row : session->execParams(kNotEmpty, t.service, util::jsonList(allowed))) {
    t.not_empty.push_back(row[0].c_str());
  }
  t.schema_exists =
      session->scalar("SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1", t.service)
          .has_value();
  if (!t.schema_exists) return;
  // The copy would fail on a name step 4 already took in the schema.
  std::set<std::string> copied(t.source_names.begin(), t.source_names.end());
  for (const auto& row : session->execParams(kNamesInSchema, t.service)) {
    if (copied.count(row[0].c_str())) {
      t.not_empty.push_back(fmt::format("relation {}.{} (the schema copy creates one of that name)",
                                        t.service, row[0].c_str()));
    }
  }
}

}  // namespace

std::string targetDsn(pg::Session& catalog, const plan::Service& service) {
  const std::string& main = catalog.redactedDsn();
  if (main.empty() || main[0] == '(') return service.database;
  return pg::buildConninfo(main, pg::parseConninfo(service.database));
}

std::vector<const plan::Service*> movingServices(const plan::Plan& plan) {
  std::vector<const plan::Service*> out;
  if (plan.split.mode != "database") return out;
  for (const plan::Service& s : plan.services) {
    if (s.database.empty()) continue;
    for (const plan::Table& t : plan.tables) {
      if (t.owner == s.name) {
        out.push_back(&s);
        break;
      }
    }
  }
  return out;
}

DatabaseFacts readDatabaseFacts(pg::Session& catalog, const plan::Plan& plan,
                                const SchemaPlan& sp) {
  DatabaseFacts f;
  f.database = sp.database;
  f.identity = sourceIdentity(catalog);
  f.wal_level = catalog.scalar("SELECT current_setting('wal_level')").value_or("");
  pg::Result me = catalog.exec(
      "SELECT rolsuper OR rolreplication, current_user FROM pg_catalog.pg_roles "
      "WHERE rolname = current_user");
  f.replication = !me.empty() && me[0][0].as<bool>();
  f.user = me.empty() ? "" : me[0][1].c_str();
  pg::Result room = catalog.exec(
      "SELECT current_setting('max_replication_slots')::int"
      "       - (SELECT count(*) FROM pg_catalog.pg_replication_slots),"
      "       current_setting('max_wal_senders')::int"
      "       - (SELECT count(*) FROM pg_catalog.pg_stat_replication)");
  f.free_slots = room[0][0].as<int>();
  f.free_senders = room[0][1].as<int>();
  std::string system_id;
  try {
    system_id = catalog.scalar(kSystemId).value_or("");
  } catch (const Error&) {
  }
  for (const plan::Service* s : movingServices(plan)) {
    // The service's relations: those moving into its schema and those already there.
    std::vector<std::string> oids;
    std::map<std::string, std::string> quoted;  // oid -> name after the move
    std::vector<std::string> roots;
    for (const Move& m : sp.moves) {
      if (m.to_schema != s->name) continue;
      oids.push_back(m.oid);
      quoted[m.oid] = sql::quoteQualified(s->name, m.from.name);
      if (!m.partition) roots.push_back(quoted[m.oid]);
    }
    for (const auto& row : catalog.execParams(kInSchema, s->name)) {
      std::string oid = row[0].c_str();
      if (quoted.count(oid)) continue;
      oids.push_back(oid);
      quoted[oid] = sql::quoteQualified(s->name, row[1].c_str());
      if (!row[3].as<bool>()) roots.push_back(quoted[oid]);
    }
    for (const auto& row : catalog.execParams(kNoIdentity, util::jsonList(oids))) {
      f.no_identity.push_back(row[0].c_str());
    }
    for (const auto& row : catalog.execParams(kOutside, util::jsonList(oids), s->name)) {
      f.outside.push_back(row[0].c_str());
    }
    TargetFacts t;
    t.service = s->name;
    try {
      // As the engine does (engine/targets.h): the service's DSN laid over the
      // migration's, so `database = "dbname=orders"` means the same server.
      t.dsn = targetDsn(catalog, *s);
      t.redacted = pg::redactDsn(t.dsn);
      auto kv = pg::parseConninfo(t.dsn);
      t.dbname = kv.count("dbname") ? kv["dbname"] : "";
    } catch (const Error& e) {
      t.error = e.what();
    }
    t.publish = roots;
    std::map<std::pair<std::string, std::string>, WriteGrant> grants;
    std::vector<std::pair<std::string, std::string>> order;
    for (const auto& row : catalog.execParams(kWriteAcl, util::jsonList(oids))) {
      auto key = std::make_pair(std::string(row[0].c_str()), std::string(row[1].c_str()));
      auto it = grants.find(key);
      if (it == grants.end()) {
        it = grants.emplace(key, WriteGrant{quoted[key.first], key.second, {}, false}).first;
        order.push_back(key);
      }
      it->second.privileges.push_back(row[2].c_str());
      it->second.grantable = it->second.grantable || row[3].as<bool>();
    }
    for (const auto& key : order) t.fence.push_back(grants[key]);
    for (const auto& row : catalog.execParams(kCopiedNames, util::jsonList(oids), s->name)) {
      t.source_names.push_back(row[0].c_str());
    }
    // What step 4 creates in the service's own database when it consumes.
    std::vector<std::string> allowed = {"dbsplit_cursor", "dbsplit_backfill"};
    for (const plan::Projection& p : plan.projections) {
      if (p.consumer == s->name) allowed.push_back(p.name);
    }
    for (const auto& row : catalog.execParams(kRolesUsed, util::jsonList(oids), s->name)) {
      t.roles_needed.push_back(row[0].c_str());
    }
    for (const std::string& role : s->roles) {
      if (std::find(t.roles_needed.begin(), t.roles_needed.end(), role) == t.roles_needed.end()) {
        t.roles_needed.push_back(role);
      }
    }
    t.slot_name = replicationName(plan.migration.name, s->name, sourceIdentity(catalog));
    t.slot_taken_by = catalog
                          .scalar(
                              "SELECT coalesce(database, '(a physical slot)')\n"
                              "  FROM pg_catalog.pg_replication_slots\n"
                              " WHERE slot_name = $1 AND database IS DISTINCT FROM "
                              "current_database()",
                              t.slot_name)
                          .value_or("");
    if (t.error.empty()) {
      readTarget(t, *s, system_id, "dbsplit/" + plan.migration.name + "/split", allowed);
    }
    if (t.schema_exists) {
      bool tables = false;
      for (const auto& row : catalog.execParams(kCopiedOthers, s->name)) {
        if (!tables && row[0].as<int>() > 1 && !roots.empty()) {
          t.copied.push_back("DROP TABLE IF EXISTS " + util::join(roots, ", ") + ";");
          tables = true;
        }
        t.copied.push_back(row[1].c_str());
      }
      if (!tables && !roots.empty()) {
        t.copied.push_back("DROP TABLE IF EXISTS " + util::join(roots, ", ") + ";");
      }
    }
    if (t.same_cluster && !t.dbname.empty()) {
      for (const std::string& role : s->roles) {
        std::optional<RolePath> rp = readRolePath(catalog, role, s->name, t.dbname);
        if (rp) t.paths.push_back(std::move(*rp));
      }
    }
    f.targets.push_back(std::move(t));
  }
  return f;
}

}  // namespace dbsplit::steps::split
