// PostgreSQL's pg_snapshot ("xmin:xmax:xip,...") as a value: parsed, printed
// and combined in C++ so the relay can name intermediate positions exactly
// (docs/steps/projections.md, "Why the batching is correct"). A txid is
// "visible" in a snapshot when its transaction had ended (committed or aborted)
// when the snapshot was taken: txid < xmin, or txid < xmax and not in xip.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace dbsplit::relay {

struct Snapshot {
  std::uint64_t xmin = 0;
  std::uint64_t xmax = 0;
  std::vector<std::uint64_t> xip;  // ascending, each in [xmin, xmax)

  bool visible(std::uint64_t txid) const;
  std::string str() const;  // the pg_snapshot text form
};

// True when everything that had ended by `t` had ended by `s` too (s sees at
// least what t sees).
bool covers(const Snapshot& s, const Snapshot& t);

// Throws Error(kStepFailed, "bad_snapshot") for text that is not a pg_snapshot.
Snapshot parseSnapshot(const std::string& text);

// The snapshot whose visible set is the intersection of both: what is ended
// in `a` and in `b`.
Snapshot intersect(const Snapshot& a, const Snapshot& b);

// The snapshot that sees what `base` sees plus the transactions `extra`, and
// nothing else below `xmax`: `invisible` lists transactions that must stay
// invisible (in progress in a later snapshot, or deferred to a later chunk).
// REQUIRES: every txid in `extra` is invisible in base; `invisible` ascending.
Snapshot extend(const Snapshot& base, const std::vector<std::uint64_t>& extra,
                const std::vector<std::uint64_t>& invisible);

}  // namespace dbsplit::relay
