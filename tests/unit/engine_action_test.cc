#include <set>

#include "catch2/catch.hpp"
#include "engine/action.h"
#include "engine/backoff.h"
#include "engine/run_lock.h"

using namespace dbsplit::engine;

namespace {

std::vector<Action> sample() {
  std::vector<Action> v(3);
  for (int i = 0; i < 3; ++i) {
    v[i].id = "s/k/" + std::to_string(i);
    v[i].forward = "SELECT " + std::to_string(i);
    v[i].inverse = "SELECT -" + std::to_string(i);
  }
  return v;
}

}  // namespace

TEST_CASE("the action hash chain is stable and changes with any field of any action", "[engine]") {
  auto a = sample(), b = sample();
  chainHashes(a);
  chainHashes(b);
  CHECK(a.back().sha256 == b.back().sha256);
  for (int field = 0; field < 3; ++field) {
    auto c = sample();
    if (field == 0) c[0].id += "x";
    if (field == 1) c[0].forward += " ";
    if (field == 2) c[0].inverse += ";";
    chainHashes(c);
    CHECK(c.back().sha256 != a.back().sha256);
  }
  auto swapped = sample();
  std::swap(swapped[0], swapped[1]);
  chainHashes(swapped);
  CHECK(swapped.back().sha256 != a.back().sha256);
}

TEST_CASE("an action survives the round trip through its journal record", "[engine]") {
  Action a;
  a.id = "ownership/owner/\"Sales Dept\".t";
  a.forward = "ALTER TABLE x OWNER TO y;";
  a.inverse = "ALTER TABLE x OWNER TO z;";
  a.lock = {"ACCESS EXCLUSIVE", "public.x"};
  a.transactional = false;
  a.verify = "SELECT true";
  std::vector<Action> v{a};
  chainHashes(v);
  Action back = fromRecord(toRecord(v[0], "ownership", 0));
  CHECK(back.id == v[0].id);
  CHECK(back.forward == v[0].forward);
  CHECK(back.inverse == v[0].inverse);
  CHECK(back.lock.str() == v[0].lock.str());
  CHECK(back.transactional == v[0].transactional);
  CHECK(back.verify == v[0].verify);
  CHECK(back.sha256 == v[0].sha256);
}

TEST_CASE("backoff delays grow, stay within half-jitter bounds and respect the cap", "[engine]") {
  Backoff b({10, 100, 1000});
  for (int attempt = 2; attempt <= 10; ++attempt) {
    std::int64_t ceiling = std::min<std::int64_t>(1000, 100LL << (attempt - 2));
    for (int i = 0; i < 50; ++i) {
      std::int64_t d = b.delayMs(attempt);
      CHECK(d >= ceiling / 2);
      CHECK(d <= ceiling);
    }
  }
}

TEST_CASE("each migration has its own stable run-lock key", "[engine]") {
  CHECK(lockKeyFor("shop").objid == lockKeyFor("shop").objid);
  std::set<int> keys;
  for (int i = 0; i < 1000; ++i) keys.insert(lockKeyFor("m" + std::to_string(i)).objid);
  CHECK(keys.size() == 1000);
  CHECK(lockKeyFor("shop").objid >= 0);
}
