// `dbsplit compare`: proves each projection equal to its source (DESIGN §6).
// Per consumer, every projection is bisected (differ.h), the keys that
// differed are re-checked after the relay has caught up (settle.h), and what
// persists is reported as missing / extra / different rows with their keys.
// One result per consumer goes into the journal (journal snapshot kind
// "compare"); step 5's gate reads the latest one.
//
// compare only reads PostgreSQL (read-only sessions) and takes no run lock: it
// is meant to run while the relay and the applications keep writing.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "compare/differ.h"
#include "nlohmann/json.hpp"
#include "plan/plan.h"
#include "util/error.h"
#include "util/reporter.h"

namespace dbsplit::compare {

struct Options {
  std::string dsn;       // the shared database (sources, and projections by default)
  std::string consumer;  // empty: every consumer
  std::string table;     // empty: every projection (else a projection or source name)
  BisectOptions bisect;
  std::int64_t settle_timeout_ms = 60000;  // how long to wait for the relay, per re-check
  int retries = 5;                         // re-checks of differences before they count
};

struct TableReport {
  std::string projection;  // consumer.name
  std::string source;      // schema.table
  std::int64_t source_rows = 0;
  std::int64_t projection_rows = 0;
  std::int64_t missing = 0;  // in the source, not in the projection
  std::int64_t extra = 0;    // in the projection, not in the source
  std::int64_t different = 0;
  std::int64_t chunks = 0;   // chunk hashes compared
  std::int64_t queries = 0;  // queries sent, both sides together
  std::int64_t millis = 0;
};

struct Difference {
  std::string projection;
  std::string kind;    // "missing" | "extra" | "different"
  nlohmann::json key;  // {"column": value, ...}
};

struct ConsumerReport {
  std::string consumer;
  bool partial = false;  // --table left some of the consumer's projections out
  std::string started_at;
  std::string finished_at;
  std::string relay_snapshot;  // the source snapshot when the compare started
  std::vector<TableReport> tables;
  std::vector<Difference> differences;
  std::vector<std::string> notes;  // e.g. the relay is not running
  std::optional<Error> error;      // the compare failed
  // No differences, no error, every projection of the consumer compared.
  bool clean() const { return !error && !partial && differences.empty(); }
  // The journal body (the shape in DESIGN / COMMON: kind "compare").
  nlohmann::json toJson(size_t max_differences = 10000) const;
};

struct Selection {
  std::string consumer;
  std::vector<const plan::Projection*> projections;
  bool partial = false;
};

// The consumers to compare, in plan order, with their projections. Throws
// Error(kUsage) for an unknown --consumer or a --table that matches nothing,
// and when the plan has no [[projection]].
std::vector<Selection> select(const plan::Plan& plan, const Options& options);

// Compares one consumer's projections. Never throws: a failure ends up in
// `error` of the report, with whatever was found before it.
ConsumerReport compareConsumer(const plan::Plan& plan, const Selection& selection,
                               const Options& options, util::Reporter& out);

}  // namespace dbsplit::compare
