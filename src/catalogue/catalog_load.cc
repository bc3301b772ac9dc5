// Loading the in-memory Catalog from a live database: seven read-only queries.
// View and function definitions are fetched with an empty search_path so that
// PostgreSQL writes every relation name schema-qualified (rule definitions
// too); the session's own
// search_path is put back afterwards.
#include <string>

#include "catalogue/catalog.h"
#include "nlohmann/json.hpp"
#include "pg/session.h"

namespace dbsplit::catalogue {
namespace {

const char* kUserSchemas =
    "n.nspname NOT IN ('pg_catalog', 'information_schema', 'dbsplit')\n"
    "  AND n.nspname NOT LIKE 'pg\\_toast%'\n"
    "  AND n.nspname NOT LIKE 'pg\\_temp\\_%'";

std::string text(const pg::Field& f) { return f.is_null() ? std::string() : f.c_str(); }

// Puts the session's search_path back however loading ends.
class SearchPathGuard {
 public:
  explicit SearchPathGuard(pg::Session& s) : session_(s) {
    saved_ = session_.scalar("SELECT pg_catalog.current_setting('search_path')").value_or("");
    session_.exec("SELECT pg_catalog.set_config('search_path', '', false)");
  }
  ~SearchPathGuard() {
    try {
      session_.execParams("SELECT pg_catalog.set_config('search_path', $1, false)", saved_);
    } catch (...) {  // the session is gone: nothing left to restore
    }
  }

 private:
  pg::Session& session_;
  std::string saved_;
};

void loadSearchPaths(pg::Session& session, Catalog* catalog) {
  auto source = session.execParams(
      "SELECT CASE WHEN source IN ('default', 'configuration file', 'command line',\n"
      "                           'environment variable') THEN reset_val ELSE boot_val END\n"
      "FROM pg_catalog.pg_settings WHERE name = 'search_path'");
  if (!source.empty()) catalog->setDefaultSearchPath(text(source[0][0]));
  // Precedence as PostgreSQL applies them: role in this database, then role,
  // then database; the first row per role wins.
  auto rows = session.execParams(
      "SELECT COALESCE(r.rolname, ''), substr(cfg, 13)\n"
      "FROM pg_catalog.pg_db_role_setting s\n"
      "LEFT JOIN pg_catalog.pg_roles r ON r.oid = s.setrole,\n"
      "     unnest(s.setconfig) AS cfg\n"
      "WHERE s.setdatabase IN (0, (SELECT oid FROM pg_catalog.pg_database\n"
      "                            WHERE datname = pg_catalog.current_database()))\n"
      "  AND cfg LIKE 'search\\_path=%'\n"
      "ORDER BY s.setrole = 0, s.setdatabase = 0");
  std::set<std::string> seen;
  for (const auto& row : rows) {
    std::string role = text(row[0]);
    if (!seen.insert(role).second) continue;
    if (role.empty()) {
      catalog->setDefaultSearchPath(text(row[1]));
    } else {
      catalog->setRoleSearchPath(role, text(row[1]));
    }
  }
}

// tgtype bits (PostgreSQL's trigger.h): TRIGGER_TYPE_INSERT 4, DELETE 8,
// UPDATE 16, TRUNCATE 32, INSTEAD 64.
unsigned triggerEvents(int tgtype) {
  unsigned ev = 0;
  if (tgtype & 4) ev |= kInsert;
  if (tgtype & 8) ev |= kDelete;
  if (tgtype & 16) ev |= kUpdate;
  if (tgtype & 32) ev |= kTruncate;
  return ev;
}

void loadTriggers(pg::Session& session, std::map<std::uint32_t, Relation>* rels) {
  // Clones of a partitioned table's triggers on its partitions: tgparentid
  // since PG 13, tgisinternal before. Enabled: 'O' and 'A' (see Trigger).
  std::string sql = std::string(
                        "SELECT t.tgrelid, t.tgname, t.tgfoid, t.tgtype, p.proname,\n"
                        "       pg_catalog.array_to_json(ARRAY(\n"
                        "         SELECT a.attname FROM pg_catalog.pg_attribute a\n"
                        "         WHERE a.attrelid = t.tgrelid AND a.attnum = ANY (t.tgattr)\n"
                        "         ORDER BY a.attnum))::text\n"
                        "FROM pg_catalog.pg_trigger t\n"
                        "JOIN pg_catalog.pg_proc p ON p.oid = t.tgfoid\n"
                        "JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid\n"
                        "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace\n"
                        "WHERE NOT t.tgisinternal AND t.tgenabled IN ('O', 'A')\n") +
                    (session.serverVersion() >= 130000 ? "  AND t.tgparentid = 0\n" : "") +
                    "  AND " + kUserSchemas + "\nORDER BY t.tgrelid, t.tgname";
  for (const auto& row : session.exec(sql)) {
    auto it = rels->find(row[0].as<std::uint32_t>());
    if (it == rels->end() || isOutboxTrigger(text(row[1]), text(row[4]))) continue;
    Trigger t;
    t.name = text(row[1]);
    t.function = row[2].as<std::uint32_t>();
    int tgtype = row[3].as<int>();
    t.events = triggerEvents(tgtype);
    t.instead = (tgtype & 64) != 0;
    for (const auto& c : nlohmann::json::parse(text(row[5]))) {
      t.columns.push_back(c.get<std::string>());
    }
    it->second.triggers.push_back(std::move(t));
  }
}

void loadRules(pg::Session& session, std::map<std::uint32_t, Relation>* rels) {
  // ev_type: 1 SELECT (a view's own rule, not loaded), 2 UPDATE, 3 INSERT,
  // 4 DELETE; ev_enabled as tgenabled.
  std::string sql = std::string(
                        "SELECT r.ev_class, r.oid, r.rulename, r.ev_type, r.is_instead,\n"
                        "       pg_catalog.pg_get_ruledef(r.oid)\n"
                        "FROM pg_catalog.pg_rewrite r\n"
                        "JOIN pg_catalog.pg_class c ON c.oid = r.ev_class\n"
                        "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace\n"
                        "WHERE r.ev_type <> '1' AND r.ev_enabled IN ('O', 'A')\n"
                        "  AND ") +
                    kUserSchemas + "\nORDER BY r.ev_class, r.rulename";
  for (const auto& row : session.exec(sql)) {
    auto it = rels->find(row[0].as<std::uint32_t>());
    if (it == rels->end()) continue;
    Rule r;
    r.oid = row[1].as<std::uint32_t>();
    r.name = text(row[2]);
    std::string type = text(row[3]);
    r.events = type == "2" ? kUpdate : type == "3" ? kInsert : kDelete;
    r.instead = row[4].as<bool>();
    r.definition = text(row[5]);
    it->second.rules.push_back(std::move(r));
  }
}

// dbsplit's objects carry comments saying so (the steps' templates).
Relation::Made madeBy(const std::string& comment) {
  for (const char* machinery : {"dbsplit outbox of service ", "dbsplit relay cursors of consumer ",
                                "dbsplit backfill progress of consumer "}) {
    if (comment.rfind(machinery, 0) == 0) return Relation::Made::kMachinery;
  }
  if (comment.rfind("dbsplit projection of ", 0) == 0 || comment.rfind("dbsplit: ", 0) == 0) {
    return Relation::Made::kReadModel;
  }
  return Relation::Made::kNotByDbsplit;
}

void loadRelations(pg::Session& session, Catalog* catalog) {
  auto rows =
      session.exec(std::string("SELECT c.oid, n.nspname, c.relname, c.relkind,\n"
                               "       CASE WHEN c.relispartition\n"
                               "            THEN pg_catalog.pg_partition_root(c.oid)::oid END,\n"
                               "       CASE WHEN c.relkind IN ('v', 'm')\n"
                               "            THEN pg_catalog.pg_get_viewdef(c.oid) END,\n"
                               "       pg_catalog.obj_description(c.oid, 'pg_class')\n"
                               "FROM pg_catalog.pg_class c\n"
                               "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace\n"
                               "WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')\n"
                               "  AND ") +
                   kUserSchemas);
  std::map<std::uint32_t, Relation> rels;
  for (const auto& row : rows) {
    Relation r;
    r.oid = row[0].as<std::uint32_t>();
    r.schema = text(row[1]);
    r.name = text(row[2]);
    r.kind = text(row[3]).empty() ? 'r' : text(row[3])[0];
    r.root = row[4].is_null() ? 0 : row[4].as<std::uint32_t>();
    if (r.root == r.oid) r.root = 0;
    r.viewdef = text(row[5]);
    r.made = madeBy(text(row[6]));
    rels[r.oid] = std::move(r);
  }
  auto cols = session.exec(std::string("SELECT a.attrelid, a.attname\n"
                                       "FROM pg_catalog.pg_attribute a\n"
                                       "JOIN pg_catalog.pg_class c ON c.oid = a.attrelid\n"
                                       "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace\n"
                                       "WHERE a.attnum > 0 AND NOT a.attisdropped\n"
                                       "  AND c.relkind IN ('r', 'p', 'v', 'm', 'f')\n"
                                       "  AND ") +
                           kUserSchemas + "\nORDER BY a.attrelid, a.attnum");
  for (const auto& row : cols) {
    auto it = rels.find(row[0].as<std::uint32_t>());
    if (it != rels.end()) it->second.columns.push_back(text(row[1]));
  }
  loadTriggers(session, &rels);
  loadRules(session, &rels);
  for (auto& [oid, r] : rels) catalog->addRelation(std::move(r));
  auto system = session.exec(
      "SELECT relname FROM pg_catalog.pg_class\n"
      "WHERE relnamespace = 'pg_catalog'::regnamespace AND relkind IN ('r', 'v', 'm', 'p')");
  for (const auto& row : system) catalog->addSystemRelation(text(row[0]));
}

void loadFunctions(pg::Session& session, Catalog* catalog) {
  bool has_sqlbody = session.serverVersion() >= 140000;
  std::string sql =
      std::string(
          "SELECT p.oid, n.nspname, p.proname, p.pronargs, p.pronargdefaults,\n"
          "       p.provariadic <> 0, l.lanname,\n"
          "       n.nspname || '.' || p.proname || '('\n"
          "         || pg_catalog.oidvectortypes(p.proargtypes) || ')',\n") +
      (has_sqlbody ? "       CASE WHEN l.lanname = 'sql' AND p.prosqlbody IS NULL THEN p.prosrc\n"
                     "            WHEN l.lanname IN ('sql', 'plpgsql')\n"
                     "            THEN pg_catalog.pg_get_functiondef(p.oid) END,\n"
                     "       p.prosqlbody IS NOT NULL,\n"
                   : "       CASE WHEN l.lanname = 'sql' THEN p.prosrc\n"
                     "            WHEN l.lanname = 'plpgsql'\n"
                     "            THEN pg_catalog.pg_get_functiondef(p.oid) END,\n"
                     "       false,\n") +
      "       (SELECT substr(cfg, 13) FROM pg_catalog.unnest(p.proconfig) AS cfg\n"
      "        WHERE cfg LIKE 'search\\_path=%' LIMIT 1)\n"
      "FROM pg_catalog.pg_proc p\n"
      "JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace\n"
      "JOIN pg_catalog.pg_language l ON l.oid = p.prolang\n"
      "WHERE p.prokind IN ('f', 'p')\n"
      "  AND " +
      kUserSchemas;
  for (const auto& row : session.exec(sql)) {
    Function f;
    f.oid = row[0].as<std::uint32_t>();
    f.schema = text(row[1]);
    f.name = text(row[2]);
    f.nargs = row[3].as<int>();
    f.ndefaults = row[4].as<int>();
    f.variadic = row[5].as<bool>();
    f.language = text(row[6]);
    f.identity = text(row[7]);
    f.body = text(row[8]);
    f.sql_standard = row[9].as<bool>();
    if (!row[10].is_null()) f.search_path = text(row[10]);
    catalog->addFunction(std::move(f));
  }
}

}  // namespace

Catalog loadCatalog(pg::Session& session) {
  Catalog catalog;
  loadSearchPaths(session, &catalog);
  SearchPathGuard guard(session);
  loadRelations(session, &catalog);
  loadFunctions(session, &catalog);
  return catalog;
}

}  // namespace dbsplit::catalogue
