// The bisection of one table (data-diff style): key-range chunks are hashed on
// both sides at once; a chunk whose count or hash differs is split into
// `factor` sub-chunks, down to chunks of at most `threshold` rows, whose rows
// (key and row hash) are then fetched from both sides and matched by key.
// The first level is wider (about rows * 4 / threshold chunks, up to 1024) and
// every level's chunks are hashed in one query per side, so one differing row
// in a table of a few million costs, per side, the whole-table sum (all an
// identical table costs), one bucketed scan and one row fetch. What
// comes out are suspects: keys whose rows differed at the moment they were
// read. Whether a difference persists is decided later (settle.h).
//
// Thread-safety: a Differ drives its two Sides from two threads, one query pair
// at a time; the Differ itself belongs to one thread.
#pragma once

#include <cstdint>
#include <vector>

#include "compare/both.h"
#include "compare/side.h"
#include "compare/table_spec.h"
#include "util/reporter.h"

namespace dbsplit::compare {

struct BisectOptions {
  int factor = 32;                 // sub-chunks per split
  std::int64_t threshold = 16384;  // rows at or below which a chunk is diffed row by row
};

struct DiffResult {
  std::int64_t source_rows = 0;  // as counted by the first pass
  std::int64_t projection_rows = 0;
  std::int64_t chunks = 0;    // chunk hashes compared
  std::vector<Key> suspects;  // in key order
};

class Differ {
 public:
  // `estimated_rows`: the larger side's pg_class.reltuples (< 0: unknown).
  Differ(const TableSpec& spec, Side& source, Side& target, BisectOptions options,
         double estimated_rows, util::Progress* progress);
  DiffResult run();

 private:
  int topParts() const;
  std::vector<Range> topLevel();
  // Sub-ranges covering `r` exactly; empty when `r` cannot be split.
  std::vector<Range> split(const Range& r, std::int64_t rows, bool source_larger);
  std::vector<Range> splitIntegers(const Range& r, int max_parts);
  void diffRows(const Range& r, DiffResult* out);

  const TableSpec& spec_;
  Side& source_;
  Side& target_;
  BisectOptions options_;
  double estimated_rows_;
  util::Progress* progress_;
};

}  // namespace dbsplit::compare
