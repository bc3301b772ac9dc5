// SHA-256 helpers (OpenSSL). Thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace dbsplit::util {

// Lower-case hex SHA-256 of `data`.
std::string sha256Hex(std::string_view data);

// Hash of several fields, each length-prefixed so that ("ab","c") and ("a","bc")
// never collide. Used for the action hash chain (DESIGN §2).
std::string sha256Fields(const std::vector<std::string_view>& fields);

}  // namespace dbsplit::util
