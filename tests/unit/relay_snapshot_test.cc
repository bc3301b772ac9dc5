// The relay's snapshot arithmetic: parsing and printing pg_snapshot text, the
// intersection that starts a cursor after several backfills, the extension
// that names a chunk's position, and `covers`.
#include "catch2/catch.hpp"
#include "relay/snapshot.h"
#include "util/error.h"

using dbsplit::relay::covers;
using dbsplit::relay::extend;
using dbsplit::relay::intersect;
using dbsplit::relay::parseSnapshot;
using dbsplit::relay::Snapshot;

TEST_CASE("pg_snapshot text round-trips and answers visibility like PostgreSQL", "[relay][unit]") {
  Snapshot s = parseSnapshot("10:20:12,15");
  CHECK(s.str() == "10:20:12,15");
  CHECK(s.visible(9));
  CHECK(s.visible(10));
  CHECK_FALSE(s.visible(12));
  CHECK(s.visible(13));
  CHECK_FALSE(s.visible(15));
  CHECK_FALSE(s.visible(20));
  CHECK(parseSnapshot("5:5:").str() == "5:5:");
  CHECK_THROWS_AS(parseSnapshot("5:x:"), dbsplit::Error);
  CHECK_THROWS_AS(parseSnapshot("9:5:"), dbsplit::Error);
  CHECK_THROWS_AS(parseSnapshot("nonsense"), dbsplit::Error);
}

TEST_CASE("the intersection sees what both snapshots see, nothing more", "[relay][unit]") {
  Snapshot a = parseSnapshot("10:20:12,15");
  Snapshot b = parseSnapshot("8:18:8,16");
  Snapshot i = intersect(a, b);
  for (std::uint64_t t = 0; t < 30; ++t) {
    INFO("txid " << t);
    CHECK(i.visible(t) == (a.visible(t) && b.visible(t)));
  }
}

TEST_CASE("an extended snapshot adds exactly the chunk's transactions", "[relay][unit]") {
  Snapshot prev = parseSnapshot("10:20:12,15");
  // In a later snapshot 25 is still running; 12 ended with events but is
  // deferred; this chunk applies 15 and 21.
  Snapshot next = extend(prev, {15, 21}, {12, 25});
  // Below its xmax (22) the caller listed every transaction that must stay
  // invisible; any other txid there ended (with no event left to apply).
  for (std::uint64_t t = 0; t < 30; ++t) {
    INFO("txid " << t);
    CHECK(next.visible(t) == (t < 22 && t != 12));
  }
  CHECK(covers(next, prev));
  CHECK_FALSE(covers(prev, next));
  CHECK(next.xmin == 12);
}

TEST_CASE("covers compares what two snapshots see", "[relay][unit]") {
  CHECK(covers(parseSnapshot("10:20:"), parseSnapshot("10:20:12")));
  CHECK(covers(parseSnapshot("12:25:14"), parseSnapshot("10:20:12,14")));
  CHECK_FALSE(covers(parseSnapshot("12:25:13"), parseSnapshot("10:20:12")));
  CHECK_FALSE(covers(parseSnapshot("10:19:"), parseSnapshot("10:20:")));
}
