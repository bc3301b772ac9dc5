// Parses schema-qualified relation names with PostgreSQL's identifier rules, so
// that a plan names exactly the relation pg_class holds however it was written.
#include "plan/qualified_name.h"

#include "fmt/format.h"
#include "plan/identifier.h"
#include "sql/quote.h"

namespace dbsplit::plan {
namespace {

// PostgreSQL treats every byte >= 0x80 as an identifier letter (the scanner's
// ident_start), which is what lets unquoted non-ASCII names through.
bool isIdentStart(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}
bool isIdentChar(unsigned char c) { return isIdentStart(c) || (c >= '0' && c <= '9') || c == '$'; }
bool isSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

void skipSpaces(const std::string& text, size_t* i) {
  while (*i < text.size() && isSpace(text[*i])) ++*i;
}

bool readQuoted(const std::string& text, size_t* i, std::string* out, std::string* error) {
  size_t j = *i + 1;
  std::string part;
  for (;;) {
    if (j >= text.size()) {
      *error = "unterminated quoted identifier (a \" inside quotes is written \"\")";
      return false;
    }
    if (text[j] == '"') {
      if (j + 1 < text.size() && text[j + 1] == '"') {
        part += '"';
        j += 2;
        continue;
      }
      ++j;
      break;
    }
    part += text[j++];
  }
  if (part.empty()) {
    *error = "zero-length quoted identifier \"\"";
    return false;
  }
  *out = std::move(part);
  *i = j;
  return true;
}

// Unquoted identifiers fold to lower case. Like PostgreSQL with a multi-byte
// encoding, only ASCII letters fold; other bytes are kept as written.
bool readUnquoted(const std::string& text, size_t* i, std::string* out, std::string* error) {
  unsigned char first = static_cast<unsigned char>(text[*i]);
  if (!isIdentStart(first)) {
    *error = fmt::format(
        "unexpected character '{}' (an unquoted identifier starts with a letter or _; "
        "double-quote names that hold other characters)",
        text[*i]);
    return false;
  }
  std::string part;
  while (*i < text.size() && isIdentChar(static_cast<unsigned char>(text[*i]))) {
    char c = text[*i];
    part += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    ++*i;
  }
  *out = std::move(part);
  return true;
}

bool readPart(const std::string& text, size_t* i, std::string* out, std::string* error) {
  skipSpaces(text, i);
  if (*i >= text.size()) {
    *error = "an identifier is missing";
    return false;
  }
  bool ok = text[*i] == '"' ? readQuoted(text, i, out, error) : readUnquoted(text, i, out, error);
  if (!ok) return false;
  std::string problem = identifierProblem(*out);
  if (!problem.empty()) {
    *error = problem;
    return false;
  }
  skipSpaces(text, i);
  return true;
}

}  // namespace

std::string QualifiedName::display() const { return schema.empty() ? name : schema + "." + name; }

std::string QualifiedName::quoted() const {
  return schema.empty() ? sql::quoteIdent(name) : sql::quoteQualified(schema, name);
}

std::optional<QualifiedName> parseQualifiedName(const std::string& text, std::string* error,
                                                bool schema_required) {
  std::string scratch;
  if (!error) error = &scratch;
  size_t i = 0;
  std::string first;
  if (!readPart(text, &i, &first, error)) return std::nullopt;
  if (i == text.size()) {
    if (schema_required) {
      *error = fmt::format("\"{}\" is not schema-qualified (write schema.table, e.g. public.{})",
                           text, text);
      return std::nullopt;
    }
    return QualifiedName{"public", first};
  }
  if (text[i] != '.') {
    *error =
        fmt::format("unexpected character '{}' after \"{}\" (write schema.table)", text[i], first);
    return std::nullopt;
  }
  ++i;
  std::string second;
  if (!readPart(text, &i, &second, error)) return std::nullopt;
  if (i != text.size()) {
    *error = text[i] == '.'
                 ? std::string(
                       "too many parts: write schema.table (the database is not part "
                       "of the name)")
                 : fmt::format("unexpected character '{}' after the table name", text[i]);
    return std::nullopt;
  }
  return QualifiedName{std::move(first), std::move(second)};
}

}  // namespace dbsplit::plan
