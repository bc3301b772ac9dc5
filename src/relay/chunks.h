// The relay's chunk planning (docs/steps/projections.md, "Why the batching is
// correct"): a batch is the events of the transactions that ended between two
// snapshots; it is cut into chunks of whole transactions, each with a snapshot
// of its own that sees exactly the transactions of the chunks up to it. Pure:
// the relay collects the transactions, this names the chunks.
#pragma once

#include <cstdint>
#include <vector>

#include "relay/snapshot.h"

namespace dbsplit::relay {

// The events of one source transaction in a batch.
struct TxGroup {
  std::uint64_t txid = 0;
  std::int64_t events = 0;
  std::int64_t min_seq = 0;
  std::int64_t max_seq = 0;
};

// Part of a batch: the whole transactions between two snapshots, whose
// events have seq <= upper.
struct Chunk {
  Snapshot from;
  Snapshot to;
  std::int64_t lower = 0;  // no event of the chunk has a smaller seq
  std::int64_t upper = 0;
  std::int64_t events = 0;
};

// Cuts the batch of transactions that ended by `cur` and had not by `prev`
// into chunks of at most `batch` events (a larger transaction is a chunk of
// its own), in the order of their last seq. The first chunk starts at `prev`,
// each starts where the one before ends, and the last ends at `cur`.
std::vector<Chunk> planChunks(std::vector<TxGroup> groups, const Snapshot& prev,
                              const Snapshot& cur, int batch);

}  // namespace dbsplit::relay
