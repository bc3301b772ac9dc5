// Reading libpg_query's JSON parse tree (private to the walker): missing keys
// read as null, so a walk never throws on a node shape it did not expect.
#pragma once

#include <string>

#include "nlohmann/json.hpp"

namespace dbsplit::catalogue {

inline const nlohmann::json& get(const nlohmann::json& obj, const char* key) {
  static const nlohmann::json kNull;
  if (!obj.is_object()) return kNull;
  auto it = obj.find(key);
  return it == obj.end() ? kNull : *it;
}

inline std::string str(const nlohmann::json& obj, const char* key) {
  const nlohmann::json& v = get(obj, key);
  return v.is_string() ? v.get<std::string>() : std::string();
}

// {"String":{"sval":"x"}} -> "x"; anything else -> "".
inline std::string sval(const nlohmann::json& node) { return str(get(node, "String"), "sval"); }

// Node wrappers are keyed by type names, which start with a capital letter.
inline bool isNodeType(const std::string& key) {
  return !key.empty() && key[0] >= 'A' && key[0] <= 'Z';
}

}  // namespace dbsplit::catalogue
