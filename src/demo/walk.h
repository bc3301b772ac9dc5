// The demo's walk (demo.h), shared by its parts: demo.cc runs the playbook,
// setup.cc prepares the server, database and plan, steps.cc runs and narrates
// each dbsplit command, finish.cc does the final catch-up and the
// nothing-lost check. Private to src/demo.
#pragma once

#include <chrono>
#include <initializer_list>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "demo/child.h"
#include "demo/demo.h"
#include "demo/workload.h"
#include "fmt/format.h"
#include "pg/conninfo.h"
#include "plan/plan.h"
#include "sandbox/sandbox.h"

namespace dbsplit::demo {

using Clock = std::chrono::steady_clock;

inline double secondsSince(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

inline void sleepSeconds(double s) {
  std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int>(s * 1000)));
}

inline std::string databaseOf(const std::string& playbook) {
  return playbook == "users" ? "accounts" : "shop";
}

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
  // --split database --pgbouncer: the services keep their connections through
  // the cutover. Each has its own PgBouncer pool (named after it), in front of
  // the shared database until its cutover, whose on_cutover hook (written
  // here) repoints it to the service's own database while dbsplit holds it paused.
  bool pooledSplit() const { return o_.pgbouncer && o_.split == "database"; }
  void addServicePools(const sandbox::Status& st);
  void loadDatabase();
  void createConsumerDatabases();
  void writePlan();
  // As the services connect: through PgBouncer with --pgbouncer.
  std::string serviceDsn(const std::string& role, const std::string& dbname) const {
    return pg::buildConninfo(pooler_dsn_.empty() ? server_dsn_ : pooler_dsn_,
                             {{"dbname", dbname}, {"user", role}});
  }
  std::map<std::string, ServiceDsn> serviceDsns(bool split_done, bool projected) const;
  std::vector<std::string> databasesOf(const std::string& service) const;

  // The DSN goes on the command line without its password (every local user
  // may read a command line); the password goes in the child's PGPASSWORD.
  std::vector<std::string> cmd(std::initializer_list<std::string> args) const {
    std::vector<std::string> v = {"--plan", plan_path_, "--dsn", child_.conninfo};
    v.insert(v.end(), args);
    return v;
  }
  ChildResult dbsplit(std::initializer_list<std::string> args) const {
    return runDbsplit(cmd(args), child_.env);
  }
  // Runs `dbsplit run STEP --yes` and narrates its gates and actions.
  void runStep(const std::string& step, const std::string& story);
  void requireOk(const ChildResult& r, const std::string& what);
  // Schema mode: the services' pools recycle their connections, then
  // `split finalize` drops the compatibility views nobody uses any more.
  void finalizeSchemaSplit();

  void showCoupling();
  void showEvents();
  void storeCatalogueSnapshot(const std::string& why);
  void startRelays();
  void stopRelays();
  void compare();
  void waitDeprecationWindow();
  void showServices(const std::string& when);
  // The services run on for `seconds` (times --pace) before the walk goes on.
  void pause(double seconds) const { sleepSeconds(seconds * o_.pace); }
  void dropOneEvent();
  void finalCatchUp();
  bool nothingLost();
  // Sums and prints the failed application transactions of every step (expected 0).
  std::int64_t failedDuringSteps();
  void cleanupServer();

  DemoOptions o_;  // a copy: --split database without --server turns PgBouncer on
  util::Reporter& out_;
  std::string work_;
  sandbox::Options sandbox_;
  std::string server_dsn_;      // superuser, database postgres
  std::string pooler_dsn_;      // --pgbouncer: the same through PgBouncer
  std::string pooler_console_;  // --pgbouncer: its admin console
  std::string repoint_hook_;    // pooledSplit(): the on_cutover hook's script
  std::string db_;
  std::string dsn_;            // superuser, the playbook's database
  pg::ChildConnection child_;  // dsn_ for the dbsplit children: password apart
  std::string plan_path_;
  std::unique_ptr<plan::Plan> plan_;
  std::unique_ptr<Workload> workload_;
  std::vector<std::unique_ptr<BackgroundDbsplit>> relays_;
  std::vector<std::string> consumers_;
  int outbox_epoch_ = -1;
  int cutover_epoch_ = -1;  // --split database: writes from here on are in the new databases
  Clock::time_point switched_at_;
  // Per step run: what the services saw while it ran.
  std::vector<std::pair<std::string, WindowStats>> windows_;
};

}  // namespace dbsplit::demo
