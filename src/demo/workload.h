// The simulated services of a playbook: one thread per service, each with its
// own connection logged in as the service's role, issuing the seed's "wrong"
// picture -- its own writes plus direct reads (and a waived write) of other
// services' tables -- at a steady rate. Every committed write goes into the
// Ledger. After step 4 the consumers switch their reads to their projections
// (switchToProjections), as a real deployment would after the cutover.
//
// Errors (a table moved by step 6, a connection dropped) are counted and the
// service reconnects, as an application's pool would.
//
// Thread-safety: the public methods are called from one controlling thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "demo/ledger.h"

namespace dbsplit::demo {

// Where a service connects: its own tables (`home`, the shared database until
// a database split moves them) and its projections (`local`: the service's own
// database when [[service]].database is set, else the shared one).
struct ServiceDsn {
  std::string home;
  std::string local;
};

struct ServiceStats {
  std::string name;
  std::int64_t transactions = 0;
  std::int64_t direct_reads = 0;      // reads of another service's table
  std::int64_t projection_reads = 0;  // reads of the service's own projection
  std::int64_t errors = 0;
  std::string last_error;
};

// What the services saw since Workload::beginWindow(): the demo opens one per step.
struct WindowStats {
  std::int64_t transactions = 0;
  std::int64_t errors = 0;
  std::int64_t longest_ms = 0;  // the longest transaction, connecting included
  std::int64_t connects = 0;    // connections the services opened (0: they kept theirs)
};

class Service;

class Workload {
 public:
  // `playbook`: "ecommerce" or "users". `dsns`: service name -> where it connects
  // (each DSN already names the service's login role). `rate`: transactions per
  // second, all services together.
  Workload(const std::string& playbook, std::map<std::string, ServiceDsn> dsns, double rate);
  ~Workload();

  // The services and their roles of a playbook (empty for an unknown one).
  static std::vector<std::pair<std::string, std::string>> services(const std::string& playbook);

  void start();
  void switchToProjections();
  // Stops writes to other services' tables (the waived ones): step 2 keeps a
  // waived write working, step 5 revokes it like every other direct access.
  void stopForeignWrites() { foreign_writes_ = false; }
  bool switched() const { return projected_.load(); }
  // Pauses every service between transactions (returns once all are idle).
  void pause();
  // Resumes; services reconnect (to `dsns` when not empty) before their next
  // transaction.
  void resume(const std::map<std::string, ServiceDsn>& dsns = {});
  void stop();
  // Every service reconnects before its next transaction, without pausing: a
  // pool retiring its connections (their maximum lifetime).
  void recyclePool();

  void beginWindow();
  WindowStats window() const;

  // One more write by `service` outside the steady load (the demo's test
  // switch uses it to produce an event it then drops). Returns what it wrote.
  std::vector<Write> writeOnce(const std::string& service);

  std::vector<ServiceStats> stats() const;
  Ledger& ledger() { return ledger_; }

 private:
  std::string playbook_;
  std::vector<std::unique_ptr<Service>> services_;
  std::vector<std::thread> threads_;
  Ledger ledger_;
  std::atomic<bool> projected_{false};
  std::atomic<bool> foreign_writes_{true};
  std::atomic<bool> stop_{false};
  std::atomic<bool> paused_{false};
  double rate_;
};

}  // namespace dbsplit::demo
