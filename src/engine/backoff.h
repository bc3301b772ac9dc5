// Retry policy for lock waits (DESIGN §5.2): every DDL statement runs under a
// short lock_timeout, and a 55P03 is retried after an exponentially growing,
// fully jittered delay, a bounded number of times. Short timeouts keep the
// application's queries from queueing behind dbsplit; jitter keeps competing
// retries from aligning.
#pragma once

#include <cstdint>
#include <random>

namespace dbsplit::engine {

struct BackoffPolicy {
  int max_tries = 10;          // attempts in all, the first included
  std::int64_t base_ms = 100;  // ceiling of the first delay
  std::int64_t cap_ms = 5000;  // ceiling of any delay
};

class Backoff {
 public:
  explicit Backoff(BackoffPolicy policy);
  // Delay before attempt `attempt` (2 = the first retry): uniform in
  // [ceiling/2, ceiling] with ceiling = min(cap, base * 2^(attempt-2)).
  std::int64_t delayMs(int attempt);
  const BackoffPolicy& policy() const { return policy_; }

 private:
  BackoffPolicy policy_;
  std::mt19937_64 rng_;
};

}  // namespace dbsplit::engine
