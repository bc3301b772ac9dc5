// The relay's chunk planning (see chunks.h).
#include "relay/chunks.h"

#include <algorithm>
#include <set>

namespace dbsplit::relay {

std::vector<Chunk> planChunks(std::vector<TxGroup> groups, const Snapshot& prev,
                              const Snapshot& cur, int batch) {
  std::sort(groups.begin(), groups.end(),
            [](const TxGroup& a, const TxGroup& b) { return a.max_seq < b.max_seq; });
  // Transactions not applied yet, by txid: a chunk's snapshot must keep those
  // below its xmax invisible.
  std::set<std::uint64_t> pending;
  for (const TxGroup& g : groups) pending.insert(g.txid);
  std::vector<Chunk> chunks;
  Snapshot from = prev;
  for (size_t i = 0; i < groups.size();) {
    size_t j = i;
    std::int64_t n = 0;
    // The chunk's events are those of its transactions (seq >= the cursor's):
    // the smallest of their seqs bounds the chunk's index scan from below, so
    // a batch of many chunks is read once, not once per chunk from the cursor.
    std::int64_t lower = groups[i].min_seq;
    while (j < groups.size() && (n == 0 || n + groups[j].events <= batch)) {
      n += groups[j].events;
      lower = std::min(lower, groups[j].min_seq);
      pending.erase(groups[j].txid);
      ++j;
    }
    Snapshot to = cur;
    if (j < groups.size()) {
      std::vector<std::uint64_t> extra;
      std::uint64_t xmax = from.xmax;
      for (size_t k = i; k < j; ++k) {
        extra.push_back(groups[k].txid);
        xmax = std::max(xmax, groups[k].txid + 1);
      }
      std::vector<std::uint64_t> invisible;
      for (std::uint64_t t : cur.xip) {
        if (t < xmax) invisible.push_back(t);
      }
      for (auto it = pending.begin(); it != pending.end() && *it < xmax; ++it) {
        invisible.push_back(*it);
      }
      std::sort(invisible.begin(), invisible.end());
      to = extend(from, extra, invisible);
    }
    chunks.push_back({from, to, lower, groups[j - 1].max_seq, n});
    from = to;
    i = j;
  }

  return chunks;
}

}  // namespace dbsplit::relay
