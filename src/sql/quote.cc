#include "sql/quote.h"

namespace dbsplit::sql {
namespace {

std::string quoteWith(std::string_view text, char q) {
  std::string out;
  out.reserve(text.size() + 2);
  out += q;
  for (char c : text) {
    if (c == q) out += q;
    out += c;
  }
  out += q;
  return out;
}

}  // namespace

std::string quoteIdent(std::string_view name) { return quoteWith(name, '"'); }

std::string quoteQualified(std::string_view schema, std::string_view name) {
  return quoteIdent(schema) + "." + quoteIdent(name);
}

std::string quoteLiteral(std::string_view text) { return quoteWith(text, '\''); }

std::string quoteIdentList(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i) out += ", ";
    out += quoteIdent(names[i]);
  }
  return out;
}

}  // namespace dbsplit::sql
