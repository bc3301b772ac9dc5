// Pieces of log lines: CSV fields, the user and application in a stderr
// prefix, and the statement inside a message.
#include "catalogue/log_message.h"

#include <cctype>

#include "catalogue/log_reader.h"
#include "util/text.h"

namespace dbsplit::catalogue {

// Splits one CSV record (RFC 4180 quoting) into fields.
std::vector<std::string> csvFields(const std::string& rec) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (size_t i = 0; i < rec.size(); ++i) {
    char c = rec[i];
    if (quoted) {
      if (c == '"' && i + 1 < rec.size() && rec[i + 1] == '"') {
        out.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        out.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.emplace_back();
    } else {
      out.back() += c;
    }
  }
  return out;
}

// user=..., app=... or user@db in a stderr log_line_prefix.
void prefixFields(const std::string& prefix, std::string* user, std::string* app) {
  auto value = [&](const char* key) -> std::string {
    size_t p = prefix.find(key);
    if (p == std::string::npos ||
        (p > 0 && std::isalnum(static_cast<unsigned char>(prefix[p - 1])))) {
      return {};
    }
    p += std::string(key).size();
    size_t e = prefix.find_first_of(", ]", p);
    std::string v = prefix.substr(p, e == std::string::npos ? std::string::npos : e - p);
    return v == "[unknown]" ? std::string() : v;
  };
  *user = value("user=");
  *app = value("app=");
  if (app->empty()) *app = value("application_name=");
  if (user->empty()) {
    // Debian's default '%m [%p] %q%u@%d ': the word before '@'.
    size_t at = prefix.rfind('@');
    if (at != std::string::npos) {
      size_t s = prefix.rfind(' ', at);
      s = s == std::string::npos ? 0 : s + 1;
      std::string u = prefix.substr(s, at - s);
      if (u != "[unknown]" && u.find(']') == std::string::npos) *user = u;
    }
  }
}

std::string statementOfMessage(const std::string& message) {
  std::string m = message;
  if (util::startsWith(m, "duration: ")) {
    size_t two = m.find("  ");
    if (two == std::string::npos) return {};  // duration only: the statement was logged before
    m = m.substr(two + 2);
  }
  if (util::startsWith(m, "statement: ")) return m.substr(11);
  if (util::startsWith(m, "execute ")) {
    size_t colon = m.find(": ");
    return colon == std::string::npos ? std::string() : m.substr(colon + 2);
  }
  if (util::startsWith(m, "AUDIT: ")) {
    auto f = csvFields(m.substr(7));
    // AUDIT_TYPE,STATEMENT_ID,SUBSTATEMENT_ID,CLASS,COMMAND,OBJECT_TYPE,OBJECT_NAME,STATEMENT,PARAMETER
    if (f.size() < 8 || f[7] == "<previously logged>" || f[7] == "<not logged>") return {};
    return f[7];
  }
  return {};  // parse/bind lines, connections, checkpoints, ...
}

}  // namespace dbsplit::catalogue
