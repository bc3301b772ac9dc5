// The relay's chunk planning (relay/chunks.h): a batch of whole transactions,
// cut in the order of their last seq into chunks of at most `batch` events,
// each chunk a snapshot that sees exactly the transactions of the chunks so far
// (docs/steps/projections.md, "Why the batching is correct").
#include "catch2/catch.hpp"
#include "relay/chunks.h"

using dbsplit::relay::Chunk;
using dbsplit::relay::covers;
using dbsplit::relay::parseSnapshot;
using dbsplit::relay::planChunks;
using dbsplit::relay::Snapshot;
using dbsplit::relay::TxGroup;

namespace {

// What every plan must satisfy: chunks follow each other from prev to cur,
// each sees its own and earlier chunks' transactions and none of the later
// ones nor those in progress in cur, and all events are in some chunk.
void checkChained(const std::vector<Chunk>& chunks, const std::vector<TxGroup>& groups,
                  const Snapshot& prev, const Snapshot& cur, std::int64_t batch) {
  REQUIRE(!chunks.empty());
  CHECK(chunks.front().from.str() == prev.str());
  CHECK(chunks.back().to.str() == cur.str());
  std::int64_t events = 0;
  for (size_t k = 0; k < chunks.size(); ++k) {
    const Chunk& c = chunks[k];
    INFO("chunk " << k << ": " << c.from.str() << " -> " << c.to.str());
    if (k > 0) CHECK(c.from.str() == chunks[k - 1].to.str());
    CHECK(covers(c.to, c.from));
    events += c.events;
    std::int64_t own_events = 0;
    int own = 0;
    for (const TxGroup& g : groups) {
      INFO("txid " << g.txid);
      // In this chunk or an earlier one exactly when its last seq is <= upper.
      CHECK(c.to.visible(g.txid) == (g.max_seq <= c.upper));
      if (g.max_seq <= c.upper && (k == 0 || g.max_seq > chunks[k - 1].upper)) {
        CHECK(g.min_seq >= c.lower);
        own_events += g.events;
        ++own;
      }
    }
    CHECK(own_events == c.events);
    // Over the limit only when one transaction alone is.
    if (c.events > batch) CHECK(own == 1);
    for (std::uint64_t t : cur.xip) CHECK_FALSE(c.to.visible(t));
  }
  std::int64_t total = 0;
  for (const TxGroup& g : groups) total += g.events;
  CHECK(events == total);
}

}  // namespace

TEST_CASE("an empty batch plans no chunk", "[relay][unit]") {
  CHECK(planChunks({}, parseSnapshot("10:20:12"), parseSnapshot("12:30:12"), 100).empty());
}

TEST_CASE("a batch within the limit is one chunk from the cursor's snapshot to the current one",
          "[relay][unit]") {
  const Snapshot prev = parseSnapshot("10:20:12,15");
  const Snapshot cur = parseSnapshot("12:30:12,25");
  std::vector<TxGroup> groups = {{15, 2, 40, 41}, {21, 1, 30, 30}, {27, 1, 50, 50}};
  auto chunks = planChunks(groups, prev, cur, 100);
  REQUIRE(chunks.size() == 1);
  CHECK(chunks[0].from.str() == prev.str());
  CHECK(chunks[0].to.str() == cur.str());
  CHECK(chunks[0].lower == 30);
  CHECK(chunks[0].upper == 50);
  CHECK(chunks[0].events == 4);
  checkChained(chunks, groups, prev, cur, 100);
}

TEST_CASE("chunks hold whole transactions in the order of their last seq, each within the limit",
          "[relay][unit]") {
  const Snapshot prev = parseSnapshot("10:20:12,15");
  const Snapshot cur = parseSnapshot("12:30:12,25");
  // Given out of order; by last seq: 21 (30), 15 (41), 23 (45), 27 (50).
  std::vector<TxGroup> groups = {
      {23, 3, 31, 45}, {27, 1, 50, 50}, {15, 2, 40, 41}, {21, 1, 30, 30}};
  auto chunks = planChunks(groups, prev, cur, 3);
  REQUIRE(chunks.size() == 3);
  CHECK(chunks[0].to.str() == "12:22:12");  // prev plus 15 and 21
  CHECK(chunks[0].lower == 30);
  CHECK(chunks[0].upper == 41);
  CHECK(chunks[0].events == 3);
  CHECK(chunks[1].to.str() == "12:24:12");  // plus 23
  CHECK(chunks[1].lower == 31);             // 23's first event precedes 15's
  CHECK(chunks[1].upper == 45);
  CHECK(chunks[1].events == 3);
  CHECK(chunks[2].to.str() == cur.str());
  CHECK(chunks[2].lower == 50);
  CHECK(chunks[2].upper == 50);
  CHECK(chunks[2].events == 1);
  checkChained(chunks, groups, prev, cur, 3);
}

TEST_CASE("a transaction with more events than the limit is a chunk of its own, never split",
          "[relay][unit]") {
  const Snapshot prev = parseSnapshot("100:100:");
  const Snapshot cur = parseSnapshot("104:104:");
  std::vector<TxGroup> groups = {{100, 1, 1, 1}, {101, 50, 2, 51}, {102, 1, 52, 52}};
  auto chunks = planChunks(groups, prev, cur, 10);
  REQUIRE(chunks.size() == 3);
  CHECK(chunks[1].events == 50);
  CHECK(chunks[1].lower == 2);
  CHECK(chunks[1].upper == 51);
  checkChained(chunks, groups, prev, cur, 10);
}

TEST_CASE("a transaction deferred to a later chunk stays invisible though its txid is lower",
          "[relay][unit]") {
  // 22 wrote last after 24 did: 24 is applied first, and its chunk's snapshot
  // must not see 22, nor 23 (still in progress in cur).
  const Snapshot prev = parseSnapshot("20:20:");
  const Snapshot cur = parseSnapshot("23:26:23");
  std::vector<TxGroup> groups = {{22, 1, 10, 60}, {24, 1, 55, 55}, {20, 1, 5, 5}};
  auto chunks = planChunks(groups, prev, cur, 1);
  REQUIRE(chunks.size() == 3);
  CHECK(chunks[0].upper == 5);
  CHECK(chunks[1].upper == 55);
  CHECK(chunks[1].to.visible(24));
  CHECK_FALSE(chunks[1].to.visible(22));
  CHECK_FALSE(chunks[1].to.visible(23));
  CHECK(chunks[2].lower == 10);
  checkChained(chunks, groups, prev, cur, 1);
}

TEST_CASE("any cut of a batch chains from the cursor's snapshot to the current one",
          "[relay][unit]") {
  const Snapshot prev = parseSnapshot("100:105:101,103");
  const Snapshot cur = parseSnapshot("103:120:103,110,115");
  std::vector<TxGroup> groups;
  std::int64_t seq = 1;
  // The ended transactions prev did not see, their last seqs interleaved.
  for (std::uint64_t t : {101, 105, 106, 107, 108, 109, 111, 112, 113, 114, 116, 117, 118, 119}) {
    std::int64_t n = static_cast<std::int64_t>(t % 4) + 1;
    groups.push_back({t, n, seq, seq + n * 3});
    seq += 2;
  }
  for (std::int64_t batch : {1, 2, 3, 5, 8, 13, 1000}) {
    INFO("batch " << batch);
    checkChained(planChunks(groups, prev, cur, batch), groups, prev, cur, batch);
  }
}
