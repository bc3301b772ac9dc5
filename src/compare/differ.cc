// Bisection of one table (see differ.h).
#include "compare/differ.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <utility>

namespace dbsplit::compare {
namespace {

__extension__ typedef __int128 Wide;  // key arithmetic without overflow at the int8 limits

// Rows sampled per top-level chunk boundary (more: chunks of more even size).
constexpr double kSamplesPerChunk = 50;
// The first pass cuts a table into chunks of about threshold / this many rows
// (at least `factor`, at most kMaxTopChunks of them): a differing chunk is then
// mostly diffed row by row at once, with no level of bisection in between.
constexpr double kLeavesPerThreshold = 4;
constexpr int kMaxTopChunks = 1024;

std::vector<Range> rangesBetween(const Range& r, const std::vector<Key>& boundaries) {
  std::vector<Range> out;
  std::optional<Key> lo = r.lo;
  for (const Key& b : boundaries) {
    if (lo && *lo == b) continue;
    if (!out.empty() && out.back().hi == b) continue;
    out.push_back({lo, b});
    lo = b;
  }
  if (out.empty()) return out;
  out.push_back({lo, r.hi});
  return out;
}

}  // namespace

Differ::Differ(const TableSpec& spec, Side& source, Side& target, BisectOptions options,
               double estimated_rows, util::Progress* progress)
    : spec_(spec),
      source_(source),
      target_(target),
      options_(options),
      estimated_rows_(estimated_rows),
      progress_(progress) {}

std::vector<Range> Differ::splitIntegers(const Range& r, int max_parts) {
  auto [s, t] = both([&] { return source_.minMax(r); }, [&] { return target_.minMax(r); });
  if (!s && !t) return {};
  Wide lo = std::min(s ? s->first : t->first, t ? t->first : s->first);
  Wide hi = Wide(std::max(s ? s->second : t->second, t ? t->second : s->second)) + 1;
  Wide width = hi - lo;
  Wide parts = std::min<Wide>(max_parts, width);
  if (parts < 2) return {};
  std::vector<Key> boundaries;
  for (Wide i = 1; i < parts; ++i) {
    auto b = static_cast<std::int64_t>(lo + width * i / parts);
    boundaries.push_back({std::to_string(b)});
  }
  return rangesBetween(r, boundaries);
}

int Differ::topParts() const {
  if (estimated_rows_ < 0) return options_.factor;
  double want =
      std::ceil(estimated_rows_ * kLeavesPerThreshold / static_cast<double>(options_.threshold));
  return static_cast<int>(
      std::clamp(want, static_cast<double>(options_.factor),
                 static_cast<double>(std::max(options_.factor, kMaxTopChunks))));
}

std::vector<Range> Differ::topLevel() {
  Range all;
  int parts = topParts();
  if (spec_.integer_key) {
    auto ranges = splitIntegers(all, parts);
    if (!ranges.empty()) return ranges;
    return {all};
  }
  // Other keys: boundaries from a sample of the source's keys.
  double rows = std::max(estimated_rows_, 1.0);
  double percent = std::clamp(100.0 * parts * kSamplesPerChunk / rows, 0.01, 100.0);
  std::vector<Key> sample = source_.sample(percent);
  std::vector<Key> boundaries;
  size_t per = std::max<size_t>(1, sample.size() / static_cast<size_t>(parts));
  for (size_t i = per; i < sample.size(); i += per) boundaries.push_back(sample[i]);
  auto ranges = rangesBetween(all, boundaries);
  if (ranges.empty()) return {all};
  return ranges;
}

std::vector<Range> Differ::split(const Range& r, std::int64_t rows, bool source_larger) {
  if (spec_.integer_key) return splitIntegers(r, options_.factor);
  std::int64_t step = std::max<std::int64_t>(1, (rows + options_.factor - 1) / options_.factor);
  Side& side = source_larger ? source_ : target_;
  return rangesBetween(r, side.quantiles(r, step));
}

void Differ::diffRows(const Range& r, DiffResult* out) {
  size_t first = out->suspects.size();
  auto [s, t] = both([&] { return source_.rows(r); }, [&] { return target_.rows(r); });
  // Both maps are in key order; walk them together.
  auto a = s.begin();
  auto b = t.begin();
  while (a != s.end() || b != t.end()) {
    if (b == t.end() || (a != s.end() && a->first < b->first)) {
      out->suspects.push_back(a->first);  // missing from the projection
      ++a;
    } else if (a == s.end() || b->first < a->first) {
      out->suspects.push_back(b->first);  // extra in the projection
      ++b;
    } else {
      if (a->second != b->second) out->suspects.push_back(a->first);
      ++a;
      ++b;
    }
  }
  // Reported in key order: integers as numbers (the maps order them as text).
  std::sort(out->suspects.begin() + static_cast<std::ptrdiff_t>(first), out->suspects.end(),
            [this](const Key& x, const Key& y) {
              for (size_t i = 0; i < x.size(); ++i) {
                if (x[i] == y[i]) continue;
                if (spec_.key_is_integer[i]) return std::stoll(x[i]) < std::stoll(y[i]);
                return x[i] < y[i];
              }
              return false;
            });
}

DiffResult Differ::run() {
  DiffResult out;
  Range all;
  bool small = estimated_rows_ >= 0 && estimated_rows_ <= static_cast<double>(options_.threshold);
  // A small table is one chunk: one query per side when it is equal.
  std::vector<Range> top{all};
  if (!small) {
    // First the whole table, one (parallel) scan per side: an identical table
    // costs no more. (A bucketed scan costs about twice as much here.)
    auto [s, t] = both([&] { return source_.total(); }, [&] { return target_.total(); });
    ++out.chunks;
    if (s == t) {
      out.source_rows = s.rows;
      out.projection_rows = t.rows;
      if (progress_) progress_->advance(s.rows);
      return out;
    }
    top = topLevel();
  }
  // The top-level chunks are summed in one scan per side, each differing chunk's
  // sub-chunks in one query per side: a level costs one round trip whatever
  // its fan-out.
  auto [top_s, top_t] =
      both([&] { return source_.sums(all, top); }, [&] { return target_.sums(all, top); });
  // Depth first, in key order: a stack holding the ranges still to look at,
  // the next one on top, each with both sides' sums.
  struct Item {
    Range range;
    ChunkSum s;
    ChunkSum t;
  };
  std::vector<Item> stack;
  for (size_t i = top.size(); i-- > 0;) {
    stack.push_back({top[i], top_s[i], top_t[i]});
    out.source_rows += top_s[i].rows;
    out.projection_rows += top_t[i].rows;
  }
  while (!stack.empty()) {
    Item item = std::move(stack.back());
    stack.pop_back();
    ++out.chunks;
    std::int64_t rows = std::max(item.s.rows, item.t.rows);
    if (item.s == item.t) {
      if (progress_) progress_->advance(rows);
      continue;
    }
    std::vector<Range> parts;
    if (rows > options_.threshold) parts = split(item.range, rows, item.s.rows >= item.t.rows);
    if (parts.size() < 2) {
      diffRows(item.range, &out);
      if (progress_) progress_->advance(rows);
      continue;
    }
    auto [ps, pt] = both([&] { return source_.sums(item.range, parts); },
                         [&] { return target_.sums(item.range, parts); });
    for (size_t i = parts.size(); i-- > 0;) stack.push_back({parts[i], ps[i], pt[i]});
  }
  return out;
}

}  // namespace dbsplit::compare
