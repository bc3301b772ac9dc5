// compare::both(): one query on each side at the same time, so a compare takes
// about as long as its slower side rather than the sum of both.
#pragma once

#include <future>
#include <utility>

namespace dbsplit::compare {

template <typename A, typename B>
auto both(A&& a, B&& b) {
  auto first = std::async(std::launch::async, std::forward<A>(a));
  // The future's destructor waits, so `first` never outlives this frame even
  // when `b` throws.
  auto second = b();
  return std::make_pair(first.get(), std::move(second));
}

}  // namespace dbsplit::compare
