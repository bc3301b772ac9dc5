#include "util/text.h"

#include <algorithm>
#include <regex>

#include "nlohmann/json.hpp"

namespace dbsplit::util {

size_t editDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string closestMatch(std::string_view word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_distance = std::string::npos;
  for (const auto& c : candidates) {
    size_t d = editDistance(word, c);
    if (d < best_distance) {
      best_distance = d;
      best = c;
    }
  }
  // A hint is only useful when the word is recognisably a typo of the candidate.
  size_t limit = std::max<size_t>(2, word.size() / 3);
  return best_distance <= limit ? best : std::string();
}

std::string join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) out += sep;
    out += parts[i];
  }
  return out;
}

bool startsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

std::string jsonList(const std::vector<std::string>& items) { return nlohmann::json(items).dump(); }

std::string redactSecrets(std::string text) {
  static const std::regex kKeyValue(R"((password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+))",
                                    std::regex::icase);
  static const std::regex kUri(R"((postgres(?:ql)?://[^:/@\s]*:)([^@\s]*)(@))", std::regex::icase);
  static const std::regex kUriParam(R"(([?&]password=)([^&\s]*))", std::regex::icase);
  text = std::regex_replace(text, kKeyValue, "$1********");
  text = std::regex_replace(text, kUri, "$1********$3");
  text = std::regex_replace(text, kUriParam, "$1********");
  return text;
}

}  // namespace dbsplit::util
