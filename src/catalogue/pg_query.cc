// libpg_query calls, each result freed with its matching pg_query_free_*.
#include "catalogue/pg_query.h"

#include <pg_query.h>

#include "fmt/format.h"

namespace dbsplit::catalogue::pgq {
namespace {
std::string describe(const PgQueryError* e) {
  if (e->cursorpos > 0) return fmt::format("{} (at character {})", e->message, e->cursorpos);
  return e->message;
}
}  // namespace

Parsed parse(const std::string& sql) {
  Parsed out;
  PgQueryParseResult r = pg_query_parse(sql.c_str());
  if (r.error) {
    out.error = describe(r.error);
  } else {
    out.tree = nlohmann::json::parse(r.parse_tree, nullptr, false);
    if (out.tree.is_discarded()) out.error = "the parser returned a tree that is not JSON";
  }
  pg_query_free_parse_result(r);
  return out;
}

Parsed parsePlpgsql(const std::string& create_function) {
  Parsed out;
  PgQueryPlpgsqlParseResult r = pg_query_parse_plpgsql(create_function.c_str());
  if (r.error) {
    out.error = describe(r.error);
  } else {
    out.tree = nlohmann::json::parse(r.plpgsql_funcs, nullptr, false);
    if (out.tree.is_discarded()) out.error = "the PL/pgSQL parser returned a tree that is not JSON";
  }
  pg_query_free_plpgsql_parse_result(r);
  return out;
}

std::optional<std::string> fingerprint(const std::string& sql, std::string* error) {
  PgQueryFingerprintResult r = pg_query_fingerprint(sql.c_str());
  std::optional<std::string> out;
  if (r.error) {
    if (error) *error = describe(r.error);
  } else {
    out = r.fingerprint_str;
  }
  pg_query_free_fingerprint_result(r);
  return out;
}

std::string normalize(const std::string& sql) {
  PgQueryNormalizeResult r = pg_query_normalize(sql.c_str());
  std::string out = r.error ? sql : std::string(r.normalized_query);
  pg_query_free_normalize_result(r);
  return out;
}

std::vector<Piece> split(const std::string& script, std::string* error) {
  std::vector<Piece> out;
  PgQuerySplitResult r = pg_query_split_with_scanner(script.c_str());
  if (r.error) {
    if (error) *error = describe(r.error);
  } else {
    for (int i = 0; i < r.n_stmts; ++i) {
      const PgQuerySplitStmt* s = r.stmts[i];
      out.push_back({script.substr(s->stmt_location, s->stmt_len), s->stmt_location});
    }
  }
  pg_query_free_split_result(r);
  return out;
}

}  // namespace dbsplit::catalogue::pgq
