// The demo's setting (walk.h): the server (a sandbox, or --server cleaned of
// an earlier demo), the playbook's database, the consumers' databases in
// database mode, the plan, and each service's connection at each stage.
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "demo/folder.h"
#include "demo/walk.h"
#include "pg/session.h"
#include "sql/quote.h"
#include "sql/template.h"
#include "util/text.h"

namespace dbsplit::demo {
namespace {

namespace fs = std::filesystem;

// Replaces the first line of `text` that starts with `prefix` by `line`.
std::string replaceLine(std::string text, const std::string& prefix, const std::string& line) {
  size_t at = text.find("\n" + prefix);
  if (at == std::string::npos) return text;
  size_t end = text.find('\n', at + 1);
  return text.substr(0, at + 1) + line + text.substr(end);
}

// A TOML basic string (a JSON string is one).
std::string tomlString(const std::string& s) { return nlohmann::json(s).dump(); }

// A word for /bin/sh: single-quoted, a single quote as '\''.
std::string shellWord(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string readText(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

void Demo::startServer() {
  if (!o_.server.empty()) {
    server_dsn_ = o_.server;
    say("using the server at " + pg::redactDsn(server_dsn_));
    cleanupServer();
    return;
  }
  sandbox_.dir = work_ + "/sandbox";
  sandbox_.port = o_.port;
  sandbox_.durable = false;
  sandbox_.pgbouncer_port = o_.pgbouncer ? o_.port + 1 : 0;
  // A fresh cluster every time: roles and journals of an earlier demo would
  // otherwise meet this one.
  sandbox::stop(sandbox_);
  fs::remove_all(sandbox_.dir);
  sandbox::Status st = sandbox::start(sandbox_);
  server_dsn_ = st.dsn;
  say(fmt::format("sandbox PostgreSQL started on port {} in {}", st.port, sandbox_.dir));
  if (o_.pgbouncer) {
    pooler_dsn_ = st.pgbouncer_dsn;
    pooler_console_ = st.pgbouncer_console;
    say(
        fmt::format("PgBouncer (transaction pooling) in front of it on port {}: the services "
                    "connect through it",
                    st.pgbouncer_port));
    if (pooledSplit()) addServicePools(st);
  }
}

void Demo::addServicePools(const sandbox::Status& st) {
  std::string lines;
  std::vector<std::string> pools;
  for (const auto& [svc, role] : Workload::services(o_.playbook)) {
    pools.push_back(svc);
    lines += fmt::format("{} = host={} port={} dbname={} auth_user=postgres\n", svc, st.dir,
                         st.port, db_);
  }
  std::string ini = readText(st.pgbouncer_ini);
  const std::string section = "[databases]\n";
  size_t at = ini.find(section);
  if (at == std::string::npos) {
    throw Error::stepFailed("demo_pgbouncer_config",
                            "no [databases] section in " + st.pgbouncer_ini);
  }
  ini.insert(at + section.size(), lines);
  writeFileNoFollow(st.pgbouncer_ini, ini);
  pg::ConnectOptions console;
  console.dsn = pooler_console_;
  console.application_name = "dbsplit/demo";
  console.console = true;
  pg::Session::connect(console)->exec("RELOAD");
  // The hook a DBA would write (docs/steps/split.md, "Who repoints"): the
  // pool's [databases] entry now names the service's database, then RELOAD.
  repoint_hook_ = work_ + "/repoint-pool.sh";
  std::ostringstream hook;
  hook << "#!/bin/sh\n"
       << "# Written by dbsplit demo --split database --pgbouncer: the on_cutover hook.\n"
       << "# dbsplit holds the service's pool paused while it runs.\n"
       << "set -e\n"
       << "sed -i \"s|^\\($DBSPLIT_PGBOUNCER_POOL = .*dbname=\\)[^ ]*|\\1" << db_
       << "_$DBSPLIT_SERVICE|\" " << shellWord(st.pgbouncer_ini) << "\n"
       << shellWord(sandbox::findBindir(sandbox_.bindir) + "/psql")
       << " -X -q -d \"$DBSPLIT_PGBOUNCER\" -c RELOAD\n"
       << "echo \"PgBouncer pool $DBSPLIT_PGBOUNCER_POOL now in front of " << db_
       << "_$DBSPLIT_SERVICE\"\n";
  writeFileNoFollow(repoint_hook_, hook.str(), 0700);
  say(fmt::format("PgBouncer pools {}: one per service, in front of {} until its cutover",
                  util::join(pools, ", "), db_));
}

// Drops what an earlier demo left on a shared server: the databases and roles.
void Demo::cleanupServer() {
  auto s = pg::Session::connect({server_dsn_, "dbsplit/demo", false, 10, true});
  std::vector<std::string> dbs = {databaseOf(o_.playbook)};
  for (const auto& [svc, role] : Workload::services(o_.playbook)) dbs.push_back(db_ + "_" + svc);
  // A database split leaves subscriptions in the services' databases and
  // their slots on the shared one: neither database can be dropped before.
  for (const auto& d : dbs) {
    std::unique_ptr<pg::Session> in;
    try {
      in = pg::Session::connect(
          {pg::buildConninfo(server_dsn_, {{"dbname", d}}), "dbsplit/demo", false, 10});
    } catch (const Error&) {
      continue;  // not there
    }
    for (const auto& row :
         in->exec("SELECT subname FROM pg_subscription WHERE subdbid = "
                  "(SELECT oid FROM pg_database WHERE datname = current_database())")) {
      const std::string sub = sql::quoteIdent(row[0].c_str());
      in->exec("ALTER SUBSCRIPTION " + sub + " DISABLE");
      in->exec("ALTER SUBSCRIPTION " + sub + " SET (slot_name = NONE)");
      in->exec("DROP SUBSCRIPTION " + sub);
    }
  }
  for (int i = 0; i < 50; ++i) {
    auto left = s->scalar(
        "SELECT count(pg_terminate_backend(active_pid)) + count(*) FROM pg_replication_slots "
        "WHERE database = $1",
        dbs.front());
    if (left.value_or("0") == "0") break;
    s->execParams(
        "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
        "WHERE database = $1 AND NOT active",
        dbs.front());
    sleepSeconds(0.1);
  }
  for (const auto& d : dbs)
    s->exec("DROP DATABASE IF EXISTS " + sql::quoteIdent(d) + " WITH (FORCE)");
  for (const auto& [svc, role] : Workload::services(o_.playbook)) {
    for (const auto& r : {role, svc}) {
      if (s->scalar("SELECT 1 FROM pg_roles WHERE rolname = $1", r)) {
        s->exec("DROP OWNED BY " + sql::quoteIdent(r) + " CASCADE");
        s->exec("DROP ROLE " + sql::quoteIdent(r));
      }
    }
  }
}

void Demo::loadDatabase() {
  auto start = Clock::now();
  {
    auto s = pg::Session::connect({server_dsn_, "dbsplit/demo", false, 10, true});
    s->exec("DROP DATABASE IF EXISTS " + sql::quoteIdent(db_) + " WITH (FORCE)");
    s->exec("CREATE DATABASE " + sql::quoteIdent(db_));
  }
  auto s = pg::Session::connect({dsn_, "dbsplit/demo", false, 60, true});
  s->exec(sql::playbookText(o_.playbook + "/schema.sql"));
  s->exec("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
  pg::Result r = s->exec(
      "SELECT c.relname, c.reltuples::bigint FROM pg_class c\n"
      "  JOIN pg_namespace n ON n.oid = c.relnamespace\n"
      " WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY c.reltuples DESC LIMIT 4");
  std::vector<std::string> parts;
  for (const auto& row : r) parts.push_back(fmt::format("{} {}", row[1].c_str(), row[0].c_str()));
  say(fmt::format("loaded playbooks/{}/schema.sql in {:.1f} s: {}, ...", o_.playbook,
                  secondsSince(start), util::join(parts, ", ")));
}

// With --split database every service names its own database, and a
// consumer's projections live there (step 4): as a DBA would `createdb` them
// before step 4, the demo creates them (empty) now. Step 6 then copies each
// owner's schema beside its projections; it creates the databases of services
// that consume nothing (catalog) itself.
void Demo::createConsumerDatabases() {
  if (o_.split != "database") return;
  auto s = pg::Session::connect({server_dsn_, "dbsplit/demo", false, 10, true});
  std::vector<std::string> made;
  for (const auto& c : consumers_) {
    const std::string db = db_ + "_" + c;
    s->exec("DROP DATABASE IF EXISTS " + sql::quoteIdent(db) + " WITH (FORCE)");
    s->exec("CREATE DATABASE " + sql::quoteIdent(db));
    made.push_back(db);
  }
  if (!made.empty()) {
    say(fmt::format("$ createdb   x{}: {} (the consumers' own databases, for their projections)",
                    made.size(), util::join(made, ", ")));
  }
}

void Demo::writePlan() {
  std::string text = sql::playbookText(o_.playbook + ".toml");
  text = replaceLine(
      text, "deprecation_window",
      fmt::format("deprecation_window = \"{}\"   # dbsplit demo: seconds, not days", o_.window));
  std::string split = fmt::format("mode = \"{}\"", o_.split);
  if (o_.pgbouncer) {
    split += "\npgbouncer = " + tomlString(pooler_console_) +
             (pooledSplit() ? "   # dbsplit demo --pgbouncer: PAUSE/RESUME around each cutover"
                            : "   # dbsplit demo --pgbouncer: RECONNECT after the move");
  }
  if (pooledSplit()) {
    split += "\non_cutover = " + tomlString("sh " + repoint_hook_) +
             "   # repoints the service's pool, then RELOAD";
  }
  text = replaceLine(text, "mode = \"schema\"", split);
  text = replaceLine(text, "database",
                     fmt::format("database = {}   # the demo's server", tomlString(dsn_)));
  if (o_.split == "database") {
    for (const auto& [svc, role] : Workload::services(o_.playbook)) {
      std::string name_line = fmt::format("name  = \"{}\"", svc);
      size_t at = text.find("\n" + name_line + "\n");
      if (at == std::string::npos) continue;
      std::string db = pg::buildConninfo(server_dsn_, {{"dbname", db_ + "_" + svc}});
      text.insert(at + 1 + name_line.size() + 1,
                  fmt::format("database = {}\n", tomlString(db)) +
                      (pooledSplit() ? fmt::format("pgbouncer_pool = {}\n", tomlString(svc)) : ""));
    }
  }
  plan_path_ = work_ + "/dbsplit.toml";
  fs::remove_all(work_ + "/.dbsplit");
  // 0600: the plan holds the server's DSN, a password included when it has one.
  writeFileNoFollow(plan_path_,
                    "# Written by dbsplit demo from playbooks/" + o_.playbook + ".toml.\n" + text);
  plan_ = std::make_unique<plan::Plan>(plan::loadPlan(plan_path_));
  std::set<std::string> seen;
  for (const auto& p : plan_->projections) {
    if (seen.insert(p.consumer).second) consumers_.push_back(p.consumer);
  }
}

std::vector<std::string> Demo::databasesOf(const std::string& service) const {
  std::vector<std::string> out;
  for (const auto& s : plan_->services) {
    if (s.name == service && !s.database.empty()) out.push_back(s.database);
  }
  out.push_back(dsn_);
  return out;
}

std::map<std::string, ServiceDsn> Demo::serviceDsns(bool split_done, bool projected) const {
  std::map<std::string, ServiceDsn> out;
  const bool db_mode = o_.split == "database";
  for (const auto& [svc, role] : Workload::services(o_.playbook)) {
    ServiceDsn d;
    std::string own = db_ + "_" + svc;
    // Only a consumer's own database exists before step 6 (createConsumerDatabases).
    const bool consumer = std::find(consumers_.begin(), consumers_.end(), svc) != consumers_.end();
    if (pooledSplit()) {
      // Its own pool, which the cutover repoints: the same DSN before and after.
      d.home = serviceDsn(role, svc);
      d.local = projected && consumer ? serviceDsn(role, own) : d.home;
      out[svc] = d;
      continue;
    }
    d.home = serviceDsn(role, db_mode && split_done ? own : db_);
    d.local = serviceDsn(role, db_mode && ((projected && consumer) || split_done) ? own : db_);
    out[svc] = d;
  }
  return out;
}

}  // namespace dbsplit::demo
