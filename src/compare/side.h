// One side of a compare (the source table or the projection) on its own
// connection. Every query a compare sends goes through here, so the chunk
// query count in the report is exact.
//
// Thread-safety: one Side per thread at a time; the differ runs the two sides
// of each step on two threads.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "compare/table_spec.h"
#include "pg/session.h"

namespace dbsplit::compare {

// A key value: the canonical text of each key column.
using Key = std::vector<std::string>;

// Keys in [lo, hi); an absent bound is unbounded.
struct Range {
  std::optional<Key> lo;
  std::optional<Key> hi;
};

struct ChunkSum {
  std::int64_t rows = 0;
  std::string hash;  // sum of the row hashes, as text
  bool operator==(const ChunkSum& o) const { return rows == o.rows && hash == o.hash; }
};

// Key -> row hashes (more than one only when a key is duplicated).
using RowHashes = std::map<Key, std::vector<std::int64_t>>;

// Opens a read-only session with the settings the canonical forms rely on
// (TimeZone UTC, DateStyle ISO, ...).
std::unique_ptr<pg::Session> openSide(const std::string& dsn, const std::string& migration);

// The catalog's view of `name` on `session` (found = false when it does not exist).
Relation describe(pg::Session& session, const plan::QualifiedName& name);

class Side {
 public:
  Side(pg::Session& session, const SideSql& sql, std::string label);

  // Refuses keys without an ordering (json, point, ...) and NULL keys:
  // Error(kPrecondition, "no_usable_key").
  void checkKey(const std::vector<std::string>& key_names);

  ChunkSum sum(const Range& r);
  // The sum of the whole table in one sequential scan, parallel where the
  // server allows (max_parallel_workers_per_gather): what an identical table
  // costs.
  ChunkSum total();
  // The sums of consecutive ranges that cover `within` in order
  // (ranges[i].hi == ranges[i + 1].lo, ranges.front().lo == within.lo,
  // ranges.back().hi == within.hi), in one query: rows are put in their range's
  // bucket (a binary search over the bounds: width_bucket() for a single
  // integer key, a CASE tree otherwise) and summed per bucket. The whole table
  // (`within` unbounded) is read by a sequential scan, parallel where the
  // server allows; a bounded range through the key's index. Either way one
  // query per side however many ranges, rather than one per chunk.
  std::vector<ChunkSum> sums(const Range& within, const std::vector<Range>& ranges);
  RowHashes rows(const Range& r);
  RowHashes rowsByKeys(const std::vector<Key>& keys);
  // Every `step`-th key of the range in key order (the range's quantiles).
  std::vector<Key> quantiles(const Range& r, std::int64_t step);
  // Up to `n` keys sampled from the whole table (TABLESAMPLE), in key order.
  std::vector<Key> sample(double percent);
  // min and max of a single integer key in the range; nullopt when empty.
  std::optional<std::pair<std::int64_t, std::int64_t>> minMax(const Range& r);

  std::int64_t queries() const { return queries_; }
  const std::string& label() const { return label_; }

 private:
  std::string where(const Range& r, std::vector<std::string>* params) const;
  std::string keyList() const;
  std::string bucket(const std::vector<Range>& ranges, size_t first, size_t last,
                     std::vector<std::string>* params) const;
  std::string integerBucket(const std::vector<Range>& ranges,
                            std::vector<std::string>* params) const;
  // query() with a sequential scan allowed (the session otherwise reads key
  // ranges through the key's index).
  pg::Result scan(const std::string& sql, const std::vector<std::string>& params);
  pg::Result query(const std::string& sql, const std::vector<std::string>& params);

  pg::Session& session_;
  const SideSql& sql_;
  std::string label_;
  std::int64_t queries_ = 0;
};

}  // namespace dbsplit::compare
