#include "relay/snapshot.h"

#include <algorithm>
#include <set>

#include "fmt/format.h"
#include "util/error.h"

namespace dbsplit::relay {
namespace {

Error bad(const std::string& text) {
  return Error::stepFailed("bad_snapshot", fmt::format("\"{}\" is not a pg_snapshot", text),
                           "the cursor table holds a damaged snapshot; restore it or re-run "
                           "the projections step");
}

std::uint64_t number(const std::string& text, const std::string& part) {
  if (part.empty() || part.find_first_not_of("0123456789") != std::string::npos) throw bad(text);
  return std::stoull(part);
}

Snapshot normalized(std::uint64_t xmax, std::set<std::uint64_t> xip) {
  Snapshot s;
  s.xmax = xmax;
  for (std::uint64_t t : xip) {
    if (t < xmax) s.xip.push_back(t);
  }
  s.xmin = s.xip.empty() ? xmax : s.xip.front();
  return s;
}

}  // namespace

bool Snapshot::visible(std::uint64_t txid) const {
  if (txid < xmin) return true;
  if (txid >= xmax) return false;
  return !std::binary_search(xip.begin(), xip.end(), txid);
}

std::string Snapshot::str() const {
  std::string out = fmt::format("{}:{}:", xmin, xmax);
  for (size_t i = 0; i < xip.size(); ++i) out += (i ? "," : "") + std::to_string(xip[i]);
  return out;
}

bool covers(const Snapshot& s, const Snapshot& t) {
  if (s.xmax < t.xmax) return false;
  for (std::uint64_t x : s.xip) {
    if (x >= t.xmax) break;
    if (t.visible(x)) return false;
  }
  return true;
}

Snapshot parseSnapshot(const std::string& text) {
  size_t a = text.find(':');
  size_t b = a == std::string::npos ? a : text.find(':', a + 1);
  if (b == std::string::npos) throw bad(text);
  Snapshot s;
  s.xmin = number(text, text.substr(0, a));
  s.xmax = number(text, text.substr(a + 1, b - a - 1));
  std::string rest = text.substr(b + 1);
  for (size_t pos = 0; pos < rest.size();) {
    size_t comma = rest.find(',', pos);
    if (comma == std::string::npos) comma = rest.size();
    s.xip.push_back(number(text, rest.substr(pos, comma - pos)));
    pos = comma + 1;
  }
  std::sort(s.xip.begin(), s.xip.end());
  if (s.xmin > s.xmax) throw bad(text);
  return s;
}

Snapshot intersect(const Snapshot& a, const Snapshot& b) {
  std::uint64_t xmax = std::min(a.xmax, b.xmax);
  std::set<std::uint64_t> xip(a.xip.begin(), a.xip.end());
  xip.insert(b.xip.begin(), b.xip.end());
  // Below each xmin everything is visible in that snapshot; between a
  // snapshot's xmin and the common xmax, only its xip is invisible.
  return normalized(xmax, xip);
}

Snapshot extend(const Snapshot& base, const std::vector<std::uint64_t>& extra,
                const std::vector<std::uint64_t>& invisible) {
  std::uint64_t xmax = base.xmax;
  for (std::uint64_t t : extra) xmax = std::max(xmax, t + 1);
  std::set<std::uint64_t> xip(base.xip.begin(), base.xip.end());
  for (std::uint64_t t : extra) xip.erase(t);
  // What base did not see because it lay at or past base.xmax stays invisible
  // only when listed: extend() is given every such transaction that matters.
  xip.insert(invisible.begin(), invisible.end());
  return normalized(xmax, xip);
}

}  // namespace dbsplit::relay
