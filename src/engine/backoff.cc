#include "engine/backoff.h"

#include <algorithm>

namespace dbsplit::engine {

Backoff::Backoff(BackoffPolicy policy) : policy_(policy), rng_(std::random_device{}()) {}

std::int64_t Backoff::delayMs(int attempt) {
  int shift = std::clamp(attempt - 2, 0, 30);
  std::int64_t ceiling = std::min(policy_.cap_ms, policy_.base_ms << shift);
  // Half-jitter: never retry instantly (that would only meet the same lock), but
  // spread retries enough that two waiting runs do not collide forever.
  std::uniform_int_distribution<std::int64_t> dist(ceiling / 2, std::max<std::int64_t>(ceiling, 1));
  return dist(rng_);
}

}  // namespace dbsplit::engine
