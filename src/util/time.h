// Wall-clock helpers. Journal timestamps are UTC ISO-8601 with milliseconds so
// that they sort as text.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace dbsplit::util {

std::string nowIso8601();
std::int64_t nowUnixMillis();
// The journal's timestamp form of a Unix time in milliseconds:
// "2026-06-01T12:00:00.000Z".
std::string isoAt(std::int64_t unix_ms);

// Milliseconds elapsed since `start` on the steady clock.
std::int64_t millisSince(std::chrono::steady_clock::time_point start);

// "7d", "12h", "30m", "45s", "500ms" -> milliseconds. Throws Error(kUsage) naming
// `where` when the text does not parse.
std::int64_t parseDurationMillis(const std::string& text, const std::string& where);

}  // namespace dbsplit::util
