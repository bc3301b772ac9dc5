// shapeKey: a single-pass lexer that knows just enough SQL (quotes, E'' and
// dollar quoting, comments, numbers) never to mistake an identifier or a
// keyword for a literal. When in doubt it copies bytes, which only makes keys
// more distinct, never wrongly equal.
#include "catalogue/shape_key.h"

namespace dbsplit::catalogue {
namespace {

bool identChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '$' || static_cast<unsigned char>(c) >= 0x80;
}
bool digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

std::string shapeKey(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0, n = s.size();
  bool pending_space = false;
  auto emit = [&](char c) {
    if (pending_space && !out.empty()) out += ' ';
    pending_space = false;
    out += c;
  };
  while (i < n) {
    char c = s[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
      pending_space = true;
      ++i;
    } else if (c == '-' && i + 1 < n && s[i + 1] == '-') {
      while (i < n && s[i] != '\n') ++i;
      pending_space = true;
    } else if (c == '/' && i + 1 < n && s[i + 1] == '*') {
      int depth = 0;  // PostgreSQL comments nest
      while (i < n) {
        if (s[i] == '/' && i + 1 < n && s[i + 1] == '*') {
          ++depth;
          i += 2;
        } else if (s[i] == '*' && i + 1 < n && s[i + 1] == '/') {
          i += 2;
          if (--depth == 0) break;
        } else {
          ++i;
        }
      }
      pending_space = true;
    } else if (c == '\'') {
      // E'...' strings take backslash escapes; the prefix letter was copied already.
      bool escapes =
          i > 0 && (s[i - 1] == 'e' || s[i - 1] == 'E') && (i < 2 || !identChar(s[i - 2]));
      ++i;
      while (i < n) {
        if (escapes && s[i] == '\\') {
          i += 2;
        } else if (s[i] == '\'' && i + 1 < n && s[i + 1] == '\'') {
          i += 2;
        } else if (s[i] == '\'') {
          ++i;
          break;
        } else {
          ++i;
        }
      }
      emit('?');
    } else if (c == '"') {
      size_t start = i++;
      while (i < n) {
        if (s[i] == '"' && i + 1 < n && s[i + 1] == '"') {
          i += 2;
        } else if (s[i] == '"') {
          ++i;
          break;
        } else {
          ++i;
        }
      }
      if (pending_space && !out.empty()) out += ' ';
      pending_space = false;
      out.append(s.substr(start, i - start));
    } else if (c == '$' && (i == 0 || !identChar(s[i - 1])) && i + 1 < n && !digit(s[i + 1])) {
      // $tag$ ... $tag$ (the tag may be empty)
      size_t j = i + 1;
      while (j < n && identChar(s[j]) && s[j] != '$') ++j;
      if (j < n && s[j] == '$') {
        std::string_view tag = s.substr(i, j - i + 1);
        size_t end = s.find(tag, j + 1);
        i = end == std::string_view::npos ? n : end + tag.size();
        emit('?');
      } else {
        emit(c);
        ++i;
      }
    } else if ((digit(c) || (c == '.' && i + 1 < n && digit(s[i + 1]))) &&
               (i == 0 || !identChar(s[i - 1]))) {
      while (i < n && (digit(s[i]) || s[i] == '.' || s[i] == '_')) ++i;
      if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        size_t j = i + 1;
        if (j < n && (s[j] == '+' || s[j] == '-')) ++j;
        if (j < n && digit(s[j])) {
          i = j;
          while (i < n && digit(s[i])) ++i;
        }
      }
      emit('?');
    } else {
      emit(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
      ++i;
    }
  }
  return out;
}

}  // namespace dbsplit::catalogue
