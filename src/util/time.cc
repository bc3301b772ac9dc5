#include "util/time.h"

#include <cctype>
#include <ctime>

#include "fmt/format.h"
#include "util/error.h"

namespace dbsplit::util {

std::int64_t nowUnixMillis() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string isoAt(std::int64_t unix_ms) {
  std::time_t secs = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:03d}Z", buf, static_cast<int>(unix_ms % 1000));
}

std::string nowIso8601() { return isoAt(nowUnixMillis()); }

std::int64_t millisSince(std::chrono::steady_clock::time_point start) {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now() - start).count();
}

std::int64_t parseDurationMillis(const std::string& text, const std::string& where) {
  size_t i = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
  std::string unit = text.substr(i);
  if (i == 0 || i > 12) {
    throw Error::usage("bad_duration", fmt::format("{}: \"{}\" is not a duration", where, text),
                       "write a whole number and a unit: 500ms, 30s, 15m, 12h or 7d");
  }
  std::int64_t n = std::stoll(text.substr(0, i));
  if (unit == "ms") return n;
  if (unit == "s") return n * 1000;
  if (unit == "m" || unit == "min") return n * 60 * 1000;
  if (unit == "h") return n * 3600 * 1000;
  if (unit == "d") return n * 86400 * 1000;
  throw Error::usage("bad_duration",
                     fmt::format("{}: \"{}\" has an unknown unit \"{}\"", where, text, unit),
                     "use one of ms, s, m, h, d (for example 7d)");
}

}  // namespace dbsplit::util
