// The demo's "nothing lost" check: every write the simulated services
// committed (the Ledger) is compared, with SQL on the live databases, with
// where the data lives after the steps -- the owner's table (in public, in the
// owner's schema after a schema split, or in the owner's database after a
// database split), each consumer's projection of it, and the owner's outbox
// (the latest event of each row written after the outbox step).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "demo/ledger.h"
#include "plan/plan.h"

namespace dbsplit::demo {

// Where a relation is: the DSN of its database and its schema.
struct Location {
  std::string dsn;
  std::string schema;
  std::string name;
};

// Finds relation `name`, trying `schemas` in order in each of `dsns` in order.
std::optional<Location> locate(const std::vector<std::string>& dsns,
                               const std::vector<std::string>& schemas, const std::string& name);

struct CheckTarget {
  std::string what;  // "table catalog.products", "projection cart.product_view", ...
  std::int64_t rows = 0;
  std::int64_t wrong = 0;
  std::vector<std::string> samples;  // a few wrong keys, for the message
};

struct CheckReport {
  std::vector<CheckTarget> targets;
  std::int64_t rows() const;
  std::int64_t wrong() const;
};

struct CheckInputs {
  const plan::Plan& plan;
  // Service -> databases to search for its tables / projections / outbox, in order.
  std::function<std::vector<std::string>(const std::string& service)> databases;
  int outbox_epoch = -1;  // Ledger epoch from which writes have events (-1: no outbox)
  // Ledger epoch from which projections are not expected to hold the writes
  // (-1: all, what the demo checks: the relay follows the owners' outboxes
  // into their new databases after a database split's cutover).
  int projection_epoch_end = -1;
};

CheckReport checkNothingLost(const Ledger& ledger, const CheckInputs& in);

}  // namespace dbsplit::demo
