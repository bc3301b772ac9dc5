// Every write the simulated services committed, as the database returned it
// (RETURNING col::text): the evidence the demo's "nothing lost" check compares
// with where the data lives after the steps.
//
// Thread-safety: record() and snapshot() may be called from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"

namespace dbsplit::demo {

struct Write {
  std::string table;      // unqualified, as the service names it ("orders")
  nlohmann::json key;     // {"id": "42"}: the primary key, as text
  nlohmann::json values;  // {"status": "shipped"}: other columns written, as text
  bool deleted = false;
  int epoch = 0;  // the Ledger's epoch when it committed (set by record())
};

// The state each written row must be in: per table and key, the columns of
// every committed write merged in commit order (one writer per key, see
// workload.cc), or "deleted".
class Ledger {
 public:
  void record(const std::vector<Write>& committed);
  // Starts a new epoch: writes recorded from now on committed after every
  // change made before this call (the demo bumps it after each step).
  int nextEpoch();
  // table -> rows (each {"k": key, "v": values, "d": deleted, "e": epoch of
  // the row's last write}).
  std::map<std::string, std::vector<nlohmann::json>> snapshot() const;
  std::int64_t writes() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::map<std::string, Write>> rows_;
  std::int64_t writes_ = 0;
  int epoch_ = 0;
};

}  // namespace dbsplit::demo
