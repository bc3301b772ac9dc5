// Cutting a relay batch into chunks of whole transactions (docs/steps/
// projections.md, "Why the batching is correct", point 4). Pure: the relay
// reads the batch's transactions and the two snapshots, this decides the
// chunks, so the cut is unit-tested apart from any database.
#pragma once

#include <cstdint>
#include <vector>

#include "relay/snapshot.h"

namespace dbsplit::relay {

// The events one source transaction wrote into the batch.
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

// The batch of the transactions `groups` (those ended by `cur` and not by
// `prev`, in any order), cut into chunks of whole transactions in the order of
// their last seq, each of at most `batch` events unless one transaction alone
// has more. The first chunk starts at `prev`, each next one where the previous
// one ends, the last ends at `cur`; a chunk's snapshot sees what `prev` saw
// plus its own and earlier chunks' transactions, and keeps the later chunks'
// and the ones in progress in `cur` invisible. Empty for no groups.
std::vector<Chunk> planChunks(std::vector<TxGroup> groups, const Snapshot& prev,
                              const Snapshot& cur, std::int64_t batch);

}  // namespace dbsplit::relay
