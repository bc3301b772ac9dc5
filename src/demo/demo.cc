// The demo's walk. Every step runs as `dbsplit --plan P --dsn D run STEP --yes`
// in a child process (child.h), exactly as a DBA would type it; the demo only
// narrates, keeps the services running and checks the result.
#include "demo/demo.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>
#include <tuple>

#include "catalogue/source.h"
#include "demo/check.h"
#include "demo/child.h"
#include "demo/workload.h"
#include "fmt/format.h"
#include "pg/conninfo.h"
#include "pg/session.h"
#include "plan/plan.h"
#include "sandbox/sandbox.h"
#include "sql/quote.h"
#include "sql/template.h"
#include "steps/registry.h"
#include "util/text.h"
#include "util/time.h"

namespace dbsplit::demo {

bool stepAvailable(const std::string& step) {
  for (const auto* s : steps::registry()) {
    if (s->name() == step) return true;
  }
  return false;
}

namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

std::string absolute(const std::string& path) { return fs::absolute(path).lexically_normal(); }

double secondsSince(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

void sleepSeconds(double s) {
  std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int>(s * 1000)));
}

std::string databaseOf(const std::string& playbook) {
  return playbook == "users" ? "accounts" : "shop";
}

// Replaces the first line of `text` that starts with `prefix` by `line`.
std::string replaceLine(std::string text, const std::string& prefix, const std::string& line) {
  size_t at = text.find("\n" + prefix);
  if (at == std::string::npos) return text;
  size_t end = text.find('\n', at + 1);
  return text.substr(0, at + 1) + line + text.substr(end);
}

// A TOML basic string (a JSON string is one).
std::string tomlString(const std::string& s) { return nlohmann::json(s).dump(); }

class Demo {
 public:
  Demo(const DemoOptions& o, util::Reporter& out) : o_(o), out_(out) {}

  util::Outcome run();

 private:
  void narrate(const std::string& title, const std::string& text) {
    out_.event({{"event", "demo"}, {"title", title}, {"text", text}},
               fmt::format("\n== {}\n{}", title, text));
  }
  void say(const std::string& line) {
    out_.event({{"event", "demo_detail"}, {"text", line}}, "   " + line);
  }

  void startServer();
  void loadDatabase();
  void createConsumerDatabases();
  void writePlan();
  std::string serviceDsn(const std::string& role, const std::string& dbname) const {
    return pg::buildConninfo(server_dsn_, {{"dbname", dbname}, {"user", role}});
  }
  std::map<std::string, ServiceDsn> serviceDsns(bool split_done, bool projected) const;
  std::vector<std::string> databasesOf(const std::string& service) const;

  std::vector<std::string> cmd(std::initializer_list<std::string> args) const {
    std::vector<std::string> v = {"--plan", plan_path_, "--dsn", dsn_};
    v.insert(v.end(), args);
    return v;
  }
  // Runs `dbsplit run STEP --yes`; false when the step is not in this build.
  bool runStep(const std::string& step, const std::string& story);
  void requireOk(const ChildResult& r, const std::string& what);
  bool commandAvailable(const std::string& command);

  void showCoupling();
  void showEvents();
  void storeCatalogueSnapshot(const std::string& why);
  void startRelays();
  void stopRelays();
  void compare();
  void waitDeprecationWindow();
  void showServices(const std::string& when);
  void dropOneEvent();
  void finalCatchUp();
  bool nothingLost();
  void cleanupServer();

  const DemoOptions& o_;
  util::Reporter& out_;
  std::string work_;
  sandbox::Options sandbox_;
  std::string server_dsn_;  // superuser, database postgres
  std::string db_;
  std::string dsn_;  // superuser, the playbook's database
  std::string plan_path_;
  std::unique_ptr<plan::Plan> plan_;
  std::unique_ptr<Workload> workload_;
  std::vector<std::unique_ptr<BackgroundDbsplit>> relays_;
  std::vector<std::string> consumers_;
  bool projections_done_ = false;
  bool split_done_ = false;
  int outbox_epoch_ = -1;
  int cutover_epoch_ = -1;  // --split database: writes from here on are in the new databases
  Clock::time_point switched_at_;
  std::vector<std::string> skipped_;
};

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
  // A fresh cluster every time: roles and journals of an earlier demo would
  // otherwise meet this one.
  sandbox::stop(sandbox_);
  fs::remove_all(sandbox_.dir);
  sandbox::Status st = sandbox::start(sandbox_);
  server_dsn_ = st.dsn;
  say(fmt::format("sandbox PostgreSQL started on port {} in {}", st.port, sandbox_.dir));
}

// Drops what an earlier demo left on a shared server: the databases and roles.
void Demo::cleanupServer() {
  auto s = pg::Session::connect({server_dsn_, "dbsplit/demo", false, 10});
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
    auto s = pg::Session::connect({server_dsn_, "dbsplit/demo", false, 10});
    s->exec("DROP DATABASE IF EXISTS " + sql::quoteIdent(db_) + " WITH (FORCE)");
    s->exec("CREATE DATABASE " + sql::quoteIdent(db_));
  }
  auto s = pg::Session::connect({dsn_, "dbsplit/demo", false, 60});
  s->exec(sql::playbookText(o_.playbook + "/schema.sql"));
  s->exec("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
  pqxx::result r = s->exec(
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
  auto s = pg::Session::connect({server_dsn_, "dbsplit/demo", false, 10});
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
  text = replaceLine(text, "mode = \"schema\"", fmt::format("mode = \"{}\"", o_.split));
  text = replaceLine(text, "database",
                     fmt::format("database = {}   # the demo's server", tomlString(dsn_)));
  if (o_.split == "database") {
    for (const auto& [svc, role] : Workload::services(o_.playbook)) {
      std::string name_line = fmt::format("name  = \"{}\"", svc);
      size_t at = text.find("\n" + name_line + "\n");
      if (at == std::string::npos) continue;
      std::string db = pg::buildConninfo(server_dsn_, {{"dbname", db_ + "_" + svc}});
      text.insert(at + 1 + name_line.size() + 1, fmt::format("database = {}\n", tomlString(db)));
    }
  }
  plan_path_ = work_ + "/dbsplit.toml";
  fs::remove_all(work_ + "/.dbsplit");
  std::ofstream(plan_path_) << "# Written by dbsplit demo from playbooks/" << o_.playbook
                            << ".toml.\n"
                            << text;
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
    d.home = serviceDsn(role, db_mode && split_done ? own : db_);
    // Only a consumer's own database exists before step 6 (createConsumerDatabases).
    const bool consumer = std::find(consumers_.begin(), consumers_.end(), svc) != consumers_.end();
    d.local = serviceDsn(role, db_mode && ((projected && consumer) || split_done) ? own : db_);
    out[svc] = d;
  }
  return out;
}

void Demo::requireOk(const ChildResult& r, const std::string& what) {
  if (r.exit_code == 0) return;
  throw Error(
      static_cast<ExitCode>(r.exit_code == 4 || r.exit_code == 3 ? r.exit_code : 1),
      "demo_step_failed", fmt::format("{} failed: {}", what, r.errorMessage()),
      fmt::format("the sandbox keeps running for a look: dbsplit --plan {} status", plan_path_));
}

bool Demo::commandAvailable(const std::string& command) {
  return runDbsplit({command, "--help"}).exit_code == 0;
}

bool Demo::runStep(const std::string& step, const std::string& story) {
  if (!stepAvailable(step)) {
    narrate("step " + step, "not available in this build: skipped.");
    skipped_.push_back(step);
    return false;
  }
  // The steps build on each other: with an earlier one missing, a later one
  // would only fail its gates (revoke without projections, ...).
  if (!skipped_.empty()) {
    const std::string missing = skipped_.front();
    narrate("step " + step,
            "available, but skipped: it needs " + missing + ", which this build does not have.");
    skipped_.push_back(step);
    return false;
  }
  narrate("step " + step, story);
  auto start = Clock::now();
  ChildResult r = runDbsplit(cmd({"run", step, "--yes"}));
  requireOk(r, "dbsplit run " + step);
  int applied = 0, total = 0;
  ChildResult st = runDbsplit(cmd({"status"}));
  for (const auto& e : st.named("step")) {
    if (e.value("step", "") == step) {
      applied = e.value("actions_applied", 0);
      total = e.value("actions_total", 0);
    }
  }
  for (const auto& g : r.named("gate")) {
    std::string evidence = g.value("evidence", "");
    if (evidence.size() > 110) evidence = evidence.substr(0, 107) + "...";
    say(fmt::format("gate {:<20} {}  {}", g.value("name", g.value("gate", "?")),
                    g.value("passed", false) ? "passed" : "FAILED", evidence));
  }
  say(fmt::format("$ dbsplit run {} --yes   -> applied {}/{} actions in {:.1f} s", step, applied,
                  total, secondsSince(start)));
  return true;
}

void Demo::showCoupling() {
  ChildResult r = runDbsplit(cmd({"catalogue"}));
  requireOk(r, "dbsplit catalogue");
  std::map<std::string, std::string> owner;
  for (const auto& t : plan_->tables) owner[t.name.display()] = t.owner;
  std::map<std::tuple<std::string, std::string, std::string>, std::int64_t> cross;
  for (const auto& ev : r.named("catalogue")) {
    for (const auto& a : ev.value("accesses", nlohmann::json::array())) {
      std::string table = a.value("table", "");
      std::string svc = a.value("service", "");
      auto it = owner.find(table);
      // Roles of no service (the loader, this demo) are not the coupling.
      if (it == owner.end() || it->second == svc || svc == "unassigned") continue;
      cross[{svc, a.value("kind", ""), table}] += a.value("calls", std::int64_t{0});
    }
  }
  for (const auto& [k, calls] : cross) {
    const auto& [svc, kind, table] = k;
    say(fmt::format("{:<12} {:<5} {:<24} {:>6} calls  (owner: {})", svc, kind, table, calls,
                    owner[table]));
  }
  say(fmt::format("{} cross-service accesses: the shared surface the next steps remove",
                  cross.size()));
}

void Demo::showEvents() {
  std::set<std::string> owners;
  for (const auto& e : plan_->events) {
    for (const auto& t : plan_->tables) {
      if (t.name == e.table) owners.insert(t.owner);
    }
  }
  auto s = pg::Session::connect({dsn_, "dbsplit/demo", true, 10});
  for (const auto& owner : owners) {
    auto n = s->scalar("SELECT count(*) FROM " + sql::quoteQualified(owner, "outbox"));
    say(fmt::format("{}.outbox: {} events so far", owner, n.value_or("?")));
  }
}

// The revoke gate measures "zero direct reads over the deprecation window"
// between catalogue snapshots, so the demo stores one when the consumers move
// to their projections, as a DBA does with `dbsplit catalogue --store`.
void Demo::storeCatalogueSnapshot(const std::string& why) {
  ChildResult r = runDbsplit(cmd({"catalogue", "--store"}));
  requireOk(r, "dbsplit catalogue --store");
  for (const auto& ev : r.named("catalogue_stored")) {
    say(fmt::format("$ dbsplit catalogue --store   -> snapshot {} ({})", ev.value("id", 0), why));
  }
}

void Demo::startRelays() {
  if (!commandAvailable("relay")) {
    say("dbsplit relay is not available in this build: projections stay as backfilled");
    return;
  }
  for (const auto& c : consumers_) {
    relays_.push_back(std::make_unique<BackgroundDbsplit>(cmd({"relay", "--consumer", c}),
                                                          work_ + "/relay-" + c + ".log"));
  }
  say(fmt::format("$ dbsplit relay --consumer C   x{} in the background (logs: {}/relay-*.log)",
                  relays_.size(), work_));
}

void Demo::stopRelays() {
  for (auto& r : relays_) {
    int code = r->stop();
    if (code != 0) out_.warn(fmt::format("a relay stopped with exit code {}", code));
  }
  relays_.clear();
}

void Demo::compare() {
  if (!commandAvailable("compare")) {
    narrate("compare", "not available in this build: skipped.");
    skipped_.push_back("compare");
    return;
  }
  narrate("compare",
          "Shadow-compare each projection with its source, in key-range chunks, while the\n"
          "services keep writing; differences are re-checked once the relay caught up.");
  for (const auto& c : consumers_) {
    ChildResult r;
    for (int attempt = 0; attempt < 3; ++attempt) {
      r = runDbsplit(cmd({"compare", "--consumer", c}));
      if (r.exit_code != 3) break;
      sleepSeconds(2);  // in flight: let the relay catch up and look again
    }
    requireOk(r, "dbsplit compare --consumer " + c);
    std::int64_t rows = 0;
    int tables = 0;
    for (const auto& t : r.named("compare_table")) {
      ++tables;
      rows += t.value("projection_rows", std::int64_t{0});
    }
    say(fmt::format("$ dbsplit compare --consumer {:<12} clean ({} projection(s), {} rows)", c,
                    tables, rows));
  }
}

void Demo::waitDeprecationWindow() {
  std::int64_t window_ms = util::parseDurationMillis(o_.window, "--window");
  double remaining = static_cast<double>(window_ms) / 1000 - secondsSince(switched_at_) + 2;
  if (remaining > 0) {
    say(fmt::format("waiting {:.0f} s for the deprecation window ({}) to pass with no direct reads",
                    remaining, o_.window));
    sleepSeconds(remaining);
  }
}

void Demo::showServices(const std::string& when) {
  std::int64_t tx = 0, errors = 0;
  for (const auto& s : workload_->stats()) {
    tx += s.transactions;
    errors += s.errors;
  }
  say(fmt::format("services {}: {} transactions committed, {} writes recorded, {} errors", when, tx,
                  workload_->ledger().writes(), errors));
  for (const auto& s : workload_->stats()) {
    if (s.errors > 0) say(fmt::format("  {}: last error: {}", s.name, s.last_error));
  }
}

// DBSPLIT_DEMO_DROP_EVENT: one more write by the first event owner, whose
// event is deleted before any relay sees it: a lost event.
void Demo::dropOneEvent() {
  const plan::Event& ev = plan_->events.front();
  std::string owner;
  for (const auto& t : plan_->tables) {
    if (t.name == ev.table) owner = t.owner;
  }
  auto writes = workload_->writeOnce(owner);
  auto at = locate(databasesOf(owner), {owner}, "outbox");
  if (writes.empty() || !at) throw Error::stepFailed("demo_drop_event", "could not drop an event");
  auto s = pg::Session::connect({at->dsn, "dbsplit/demo", false, 10});
  auto n =
      s->scalar("WITH gone AS (DELETE FROM " + sql::quoteQualified(at->schema, "outbox") +
                " WHERE seq = (SELECT max(seq) FROM " + sql::quoteQualified(at->schema, "outbox") +
                ") RETURNING aggregateid) SELECT aggregateid FROM gone");
  out_.warn(fmt::format(
      "DBSPLIT_DEMO_DROP_EVENT: deleted the event of {} {} from {}.outbox (a testing aid: the "
      "check below must fail)",
      ev.aggregate_type, n.value_or("?"), at->schema));
}

void Demo::finalCatchUp() {
  if (!projections_done_ || !commandAvailable("relay")) return;
  for (const auto& c : consumers_) {
    ChildResult r = runDbsplit(cmd({"relay", "--once", "--consumer", c}));
    if (o_.drop_event && r.exit_code != 0) {
      // The dropped event may upset the relay too; the check below decides.
      out_.warn("dbsplit relay --once --consumer " + c + ": " + r.errorMessage());
      continue;
    }
    requireOk(r, "dbsplit relay --once --consumer " + c);
  }
  say(fmt::format("$ dbsplit relay --once --consumer C   x{}: every projection caught up",
                  consumers_.size()));
}

bool Demo::nothingLost() {
  narrate("nothing lost?",
          "Every write the services committed, compared with SQL against where it lives now:\n"
          "the owner's table, each projection of it, and the owner's outbox.");
  // Every write, before and after a database split's cutover: the relay
  // follows each owner's outbox into its new database.
  CheckInputs in{*plan_, [this](const std::string& s) { return databasesOf(s); }, outbox_epoch_,
                 -1};
  if (cutover_epoch_ >= 0) {
    say("after the database split's cutover the owners write their events in their new\n"
        "databases and the relay follows them there: projections are checked for every\n"
        "write, before and after the cutover");
  }
  CheckReport rep = checkNothingLost(workload_->ledger(), in);
  for (const auto& t : rep.targets) {
    out_.event({{"event", "demo_check"},
                {"target", t.what},
                {"rows", t.rows},
                {"wrong", t.wrong},
                {"samples", t.samples}},
               fmt::format("   {:<40} {:>7} rows  {}", t.what, t.rows,
                           t.wrong == 0 ? "ok"
                                        : fmt::format("{} WRONG, e.g. {}", t.wrong,
                                                      util::join(t.samples, " "))));
  }
  say(fmt::format(
      "{} committed writes: {} row checks in {} places: {}", workload_->ledger().writes(),
      rep.rows(), rep.targets.size(),
      rep.wrong() == 0 ? "nothing lost" : fmt::format("{} wrong or missing", rep.wrong())));
  return rep.wrong() == 0 && rep.rows() > 0;
}

util::Outcome Demo::run() {
  if (Workload::services(o_.playbook).empty()) {
    throw Error::usage("unknown_playbook", "unknown playbook \"" + o_.playbook + "\"",
                       "available: ecommerce, users");
  }
  if (o_.split != "schema" && o_.split != "database") {
    throw Error::usage("demo_split_mode", "--split is schema or database");
  }
  util::parseDurationMillis(o_.window, "--window");
  const auto start = Clock::now();
  work_ = absolute(o_.dir);
  fs::create_directories(work_);
  db_ = databaseOf(o_.playbook);

  narrate("dbsplit demo: the " + o_.playbook + " playbook",
          "A shared PostgreSQL database with live traffic, broken into per-service\n"
          "ownership in six steps, each run with the real dbsplit command.");
  startServer();
  dsn_ = pg::buildConninfo(server_dsn_, {{"dbname", db_}});
  loadDatabase();
  writePlan();
  say("plan: " + plan_path_ + " (the playbook, deprecation window " + o_.window + ", split " +
      o_.split + ")");
  ChildResult check = runDbsplit(cmd({"check"}));
  requireOk(check, "dbsplit check");
  say("$ dbsplit check   -> plan valid, database ready");

  workload_ = std::make_unique<Workload>(o_.playbook, serviceDsns(false, false), o_.rate);
  workload_->start();
  narrate("the services",
          fmt::format("{} simulated services, one connection each as their own role, {} tx/s:\n"
                      "their own writes plus direct reads of each other's tables.",
                      Workload::services(o_.playbook).size(), o_.rate));
  sleepSeconds(5);
  showServices("after 5 s");

  if (runStep("catalogue",
              "Who reads and writes what, from pg_stat_statements (per role = per service).")) {
    showCoupling();
  }
  runStep("ownership",
          "Each service gets a group role and a schema; the owner's group owns its tables;\n"
          "writes by anyone else are revoked, except fulfillment's waived write-back of\n"
          "orders.status, which keeps working until step 5.");
  workload_->ledger().nextEpoch();
  if (runStep("outbox",
              "Owners publish: triggers write one event per row change into <owner>.outbox,\n"
              "in the same transaction as the change.")) {
    outbox_epoch_ = workload_->ledger().nextEpoch();
    sleepSeconds(3);
    showEvents();
  }
  if (stepAvailable("projections") && skipped_.empty()) createConsumerDatabases();
  if (runStep("projections",
              "Consumers get their own copies: projection tables backfilled from one\n"
              "snapshot, then kept current by the relay from the outboxes.")) {
    projections_done_ = true;
    startRelays();
    sleepSeconds(2);
    workload_->pause();
    // The waived write-back stops with the direct reads: step 5 revokes it too
    // (orders marks its orders shipped from the shipment events itself).
    workload_->stopForeignWrites();
    workload_->resume(serviceDsns(false, true));
    workload_->switchToProjections();
    say("consumers now read their projections; fulfillment's waived write-back stops");
    storeCatalogueSnapshot("the consumers' direct reads stop here");
    switched_at_ = Clock::now();
    sleepSeconds(3);
    showServices("on projections");
    compare();
  }
  if (stepAvailable("revoke") && projections_done_) {
    waitDeprecationWindow();
    runStep("revoke",
            "Gates: a clean compare since the relay started, and zero direct reads by the\n"
            "consumers over the deprecation window. Then their direct access goes.");
  } else {
    runStep("revoke", "");
  }
  if (stepAvailable("split") && skipped_.empty()) {
    workload_->pause();
    if (o_.split == "database") cutover_epoch_ = workload_->ledger().nextEpoch();
    runStep("split",
            o_.split == "database"
                ? "Each owner's tables move to its own database (logical replication, fenced\n"
                  "cutover). The demo's services pause for the cutover and reconnect after it."
                : "Each owner's tables move into the owner's schema. The demo's services pause\n"
                  "and reconnect after it (new sessions get the search_path the step sets).");
    split_done_ = true;
    workload_->resume(serviceDsns(true, projections_done_));
    sleepSeconds(3);
  } else {
    runStep("split", "");
  }
  workload_->stop();
  showServices("at the end");
  stopRelays();
  if (o_.drop_event) dropOneEvent();
  finalCatchUp();
  const bool ok = nothingLost();

  narrate("done",
          fmt::format(
              "in {:.0f} s{}", secondsSince(start),
              skipped_.empty() ? "" : " (not in this build: " + util::join(skipped_, ", ") + ")"));
  ChildResult st = runDbsplit(cmd({"status"}));
  for (const auto& e : st.named("step")) {
    std::string status = e.value("status", "");
    // As `dbsplit status` prints it: finalize is run by its own command only.
    if (e.value("standalone", false) && status == "pending") status = "optional";
    say(fmt::format("{:<12} {:<12} {}/{} actions", e.value("step", ""), status,
                    e.value("actions_applied", 0), e.value("actions_total", 0)));
  }
  std::string look = fmt::format("dbsplit --plan {}", plan_path_);
  std::vector<std::string> next;
  if (o_.keep) {
    say("the server keeps running: " + dsn_);
    next = {look + " status", look + " log", look + " report --html " + work_ + "/report.html",
            "psql \"" + dsn_ + "\""};
    if (o_.server.empty()) next.push_back("dbsplit sandbox stop --dir " + sandbox_.dir);
  } else {
    if (o_.server.empty()) {
      sandbox::stop(sandbox_);
      say("sandbox stopped (dbsplit demo --keep leaves it running to look around)");
    } else {
      cleanupServer();
    }
    next = {"dbsplit demo --keep   (then: dbsplit status, log, report --html FILE)"};
  }
  if (!ok) {
    throw Error::stepFailed("demo_lost_writes",
                            "the nothing-lost check failed: committed writes are not where they "
                            "belong (see the lines above)",
                            o_.drop_event ? "DBSPLIT_DEMO_DROP_EVENT=1 dropped an event on purpose"
                                          : "this is a bug in dbsplit: please report it");
  }
  util::Outcome outcome{ExitCode::kOk, next};
  outcome.extra = {{"writes", workload_->ledger().writes()}, {"skipped", skipped_}};
  return outcome;
}

}  // namespace

util::Outcome runDemo(const DemoOptions& options, util::Reporter& out) {
  Demo demo(options, out);
  return demo.run();
}

}  // namespace dbsplit::demo
