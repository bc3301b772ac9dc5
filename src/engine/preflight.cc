#include "engine/preflight.h"

#include <map>
#include <set>

#include "fmt/format.h"
#include "util/error.h"
#include "util/text.h"

namespace dbsplit::engine {
namespace {

std::string value(pg::Session& s, const std::string& sql) { return s.scalar(sql).value_or(""); }

void checkServer(const plan::Plan& plan, pg::Session& s, std::vector<CheckResult>& out) {
  int version = s.serverVersion();
  out.push_back(
      {"server_version", version >= 130000 ? "pass" : "fail",
       fmt::format("PostgreSQL {}.{} (13 or newer needed)", version / 10000, version % 100)});
  bool standby = value(s, "SELECT pg_is_in_recovery()") == "t";
  // Our own session sets default_transaction_read_only (check changes
  // nothing), so look at where a real run would get it from: the database or
  // role settings and the configuration files.
  // pg_file_settings is for superusers and pg_read_all_settings only: a
  // managed admin sees the database and role settings, not the files.
  const bool files = value(s,
                           "SELECT has_table_privilege('pg_catalog.pg_file_settings', "
                           "'SELECT')") == "t";
  std::string db_ro = value(
      s, std::string("SELECT CASE WHEN EXISTS ("
                     "  SELECT 1 FROM pg_db_role_setting r, unnest(r.setconfig) c"
                     "   WHERE c = 'default_transaction_read_only=on'"
                     "     AND r.setdatabase IN (0, (SELECT oid FROM pg_database"
                     "                               WHERE datname = current_database()))"
                     "     AND r.setrole IN (0, (SELECT oid FROM pg_roles WHERE rolname = "
                     "current_user)))") +
             (files ? "  OR EXISTS (SELECT 1 FROM pg_file_settings WHERE applied"
                      "              AND name = 'default_transaction_read_only' AND setting = "
                      "'on')"
                    : "") +
             " THEN 'on' ELSE 'off' END");
  out.push_back({"writable", standby || db_ro == "on" ? "fail" : "pass",
                 standby         ? "the server is a standby (in recovery): connect to the primary"
                 : db_ro == "on" ? "default_transaction_read_only is on for this database or role"
                                 : "the server accepts writes"});
  bool pss_ext = value(s,
                       "SELECT count(*) FROM pg_extension WHERE extname = "
                       "'pg_stat_statements'") == "1";
  // shared_preload_libraries is for superusers and pg_read_all_settings; a
  // managed admin may not read it: then reading the view tells (it fails
  // when the library is not loaded).
  bool pss_loaded = false;
  if (value(s, "SELECT pg_has_role(current_user, 'pg_read_all_settings', 'USAGE')") == "t") {
    pss_loaded =
        value(s, "SHOW shared_preload_libraries").find("pg_stat_statements") != std::string::npos;
  } else if (pss_ext) {
    try {
      s.exec("SELECT 1 FROM pg_stat_statements LIMIT 1");
      pss_loaded = true;
    } catch (const Error&) {
      pss_loaded = false;
    }
  }
  out.push_back({"pg_stat_statements", pss_loaded && pss_ext ? "pass" : "warn",
                 pss_loaded && pss_ext ? "loaded and installed"
                 : !pss_loaded ? "not in shared_preload_libraries: the catalogue step can only "
                                 "read logs and SQL files"
                               : "loaded but not installed: CREATE EXTENSION pg_stat_statements"});
  std::string wal = value(s, "SHOW wal_level");
  bool need_logical = plan.split.mode == "database";
  out.push_back(
      {"wal_level", wal == "logical" ? "pass" : (need_logical ? "fail" : "warn"),
       fmt::format("wal_level = {}{}", wal,
                   wal == "logical" ? ""
                                    : "; step split in database mode needs logical "
                                      "(ALTER SYSTEM SET wal_level = logical, restart)")});
}

void checkPrivileges(const plan::Plan& plan, pg::Session& s, std::vector<CheckResult>& out) {
  pg::Result r = s.exec(
      "SELECT rolsuper, rolcreaterole, rolreplication,"
      "       has_database_privilege(current_database(), 'CREATE'), current_user"
      "  FROM pg_roles WHERE rolname = current_user");
  bool super = r[0][0].as<bool>();
  bool createrole = r[0][1].as<bool>();
  bool replication = r[0][2].as<bool>();
  bool create_db = r[0][3].as<bool>();
  std::string who = r[0][4].c_str();
  out.push_back({"privilege:ownership", super || createrole ? "pass" : "fail",
                 fmt::format("{} {} create the service roles (CREATEROLE)", who,
                             super || createrole ? "can" : "cannot")});
  out.push_back({"privilege:schemas", super || create_db ? "pass" : "fail",
                 fmt::format("{} {} create schemas in this database (CREATE on it)", who,
                             super || create_db ? "can" : "cannot")});
  if (plan.split.mode == "database") {
    out.push_back({"privilege:replication", super || replication ? "pass" : "fail",
                   fmt::format("{} {} create publications and subscriptions", who,
                               super || replication ? "can" : "cannot")});
  }
}

// Which steps the connected role can run when it is not a superuser (a
// managed service's admin: docs/managed-postgres.md), and what the others
// miss. The steps' own gates name the memberships and say the statements.
void checkManaged(const plan::Plan& plan, pg::Session& s, std::vector<CheckResult>& out) {
  pg::Result r = s.exec(
      "SELECT rolsuper, rolcreaterole, rolreplication, current_user,"
      "       pg_has_role(current_user, 'pg_read_all_stats', 'USAGE'),"
      "       current_setting('server_version_num')::int"
      "  FROM pg_roles WHERE rolname = current_user");
  const bool super = r[0][0].as<bool>();
  const std::string who = r[0][3].c_str();
  if (super) {
    out.push_back({"managed", "pass", fmt::format("{} is a superuser: every step", who)});
    return;
  }
  const bool createrole = r[0][1].as<bool>();
  const bool replication = r[0][2].as<bool>();
  const bool stats = r[0][4].as<bool>();
  const int version = r[0][5].as<int>();
  bool pgss = false;
  for (const auto& src : plan.catalogue.sources) pgss = pgss || src == "pg_stat_statements";
  std::vector<std::string> can, cannot;
  (stats || !pgss ? can : cannot)
      .push_back(stats || !pgss ? "catalogue" : "catalogue (needs pg_read_all_stats)");
  for (const char* step : {"ownership", "outbox", "projections", "revoke"}) {
    (createrole ? can : cannot)
        .push_back(createrole ? step : std::string(step) + " (needs CREATEROLE)");
  }
  if (plan.split.mode == "database") {
    if (replication && version >= 160000) {
      can.push_back("split in database mode (with pg_create_subscription on the target)");
    } else {
      std::string needs = replication ? "" : "REPLICATION, ";
      needs += version >= 160000 ? "pg_create_subscription on the target"
                                 : "a superuser on the target for the subscription "
                                   "(PostgreSQL " +
                                       std::to_string(version / 10000) + ")";
      cannot.push_back("split in database mode (needs " + needs + ")");
    }
  } else {
    (createrole ? can : cannot)
        .push_back(createrole ? "split (schema mode)" : "split (needs CREATEROLE)");
  }
  out.push_back(
      {"managed", cannot.empty() ? "pass" : "warn",
       fmt::format("{} is not a superuser (a managed service's admin): can run {}{}; the steps' "
                   "gates name the role memberships (docs/managed-postgres.md)",
                   who, can.empty() ? "no step" : util::join(can, ", "),
                   cannot.empty() ? "" : "; cannot run " + util::join(cannot, ", "))});
}

void checkObjects(const plan::Plan& plan, pg::Session& s, std::vector<CheckResult>& out) {
  std::map<plan::QualifiedName, std::set<std::string>> columns;
  for (const auto& t : plan.tables) {
    pg::Result r = s.execParams(
        "SELECT a.attname, pg_get_userbyid(c.relowner), has_table_privilege(c.oid, 'SELECT')"
        "  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        "  LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0"
        "       AND NOT a.attisdropped"
        " WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')",
        t.name.schema, t.name.name);
    if (r.empty()) {
      out.push_back({"table:" + t.name.display(), "fail",
                     fmt::format("{}: table {} does not exist", t.pos.str(), t.name.display())});
      continue;
    }
    auto& cols = columns[t.name];
    for (const auto& row : r) {
      if (!row[0].is_null()) cols.insert(row[0].c_str());
    }
    out.push_back({"table:" + t.name.display(), "pass",
                   fmt::format("exists, owner {}, {} columns", r[0][1].c_str(), cols.size())});
  }
  auto checkColumns = [&](const plan::QualifiedName& table, const std::vector<std::string>& names,
                          const plan::SourcePos& pos, const std::string& what) {
    auto it = columns.find(table);
    if (it == columns.end()) return;
    for (const auto& c : names) {
      if (it->second.count(c)) continue;
      std::vector<std::string> known(it->second.begin(), it->second.end());
      std::string close = util::closestMatch(c, known);
      out.push_back(
          {"column:" + table.display() + "." + c, "fail",
           fmt::format("{}: {} names column \"{}\", which {} does not have{}", pos.str(), what, c,
                       table.display(),
                       close.empty() ? "" : fmt::format(" (did you mean \"{}\"?)", close))});
    }
  };
  for (const auto& e : plan.events) {
    checkColumns(e.table, e.columns, e.pos, "[[event]]");
    checkColumns(e.table, e.exclude, e.pos, "[[event]] exclude");
    checkColumns(e.table, e.aggregate_id, e.pos, "[[event]] aggregate_id");
  }
  for (const auto& p : plan.projections) checkColumns(p.source, p.columns, p.pos, "[[projection]]");
  for (const auto& svc : plan.services) {
    for (const auto& role : svc.roles) {
      bool exists = s.scalar("SELECT 1 FROM pg_roles WHERE rolname = $1", role).has_value();
      out.push_back({"role:" + role, exists ? "pass" : "fail",
                     fmt::format("{}: role {} of service {} {}", svc.pos.str(), role, svc.name,
                                 exists ? "exists" : "does not exist")});
    }
  }
}

}  // namespace

std::vector<CheckResult> preflight(const plan::Plan& plan, pg::Session& session) {
  std::vector<CheckResult> out;
  out.push_back({"connection", "pass", "connected to " + session.redactedDsn()});
  checkServer(plan, session, out);
  checkPrivileges(plan, session, out);
  checkManaged(plan, session, out);
  checkObjects(plan, session, out);
  return out;
}

}  // namespace dbsplit::engine
