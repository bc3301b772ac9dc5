// Thin C++ wrappers over libpg_query: every result is freed here, errors come
// back as text. The parser keeps per-thread state; call from one thread at a
// time per thread (libpg_query is thread-safe across threads).
#pragma once

#include <optional>
#include <string>

#include "nlohmann/json.hpp"

namespace dbsplit::catalogue::pgq {

struct Parsed {
  nlohmann::json tree;  // {"version":..., "stmts":[...]}, empty on error
  std::string error;    // "syntax error at or near ..." (with the offset when known)
  bool ok() const { return error.empty(); }
};

Parsed parse(const std::string& sql);
// PL/pgSQL: `create_function` is a whole CREATE FUNCTION ... LANGUAGE plpgsql.
Parsed parsePlpgsql(const std::string& create_function);
// Hex fingerprint; nullopt with `error` set when the statement does not parse.
std::optional<std::string> fingerprint(const std::string& sql, std::string* error);
// `$1`-style normalised text, or `sql` itself when it does not parse.
std::string normalize(const std::string& sql);

struct Piece {
  std::string sql;
  int offset = 0;  // byte offset in the input
};
// Splits a script into statements with the scanner (works on invalid SQL too).
std::vector<Piece> split(const std::string& script, std::string* error);

}  // namespace dbsplit::catalogue::pgq
