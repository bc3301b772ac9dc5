#include "pg/conninfo.h"

#include <libpq-fe.h>

#include <memory>

#include "util/error.h"
#include "util/text.h"

namespace dbsplit::pg {
std::string quoteConninfoValue(const std::string& v) {
  if (!v.empty() && v.find_first_of(" '\\\t\n") == std::string::npos) return v;
  std::string out = "'";
  for (char c : v) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

std::map<std::string, std::string> parseConninfo(const std::string& dsn) {
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(dsn.c_str(), &err);
  if (!opts) {
    std::string why = err ? err : "out of memory";
    if (err) PQfreemem(err);
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    throw Error::usage("bad_dsn",
                       "the connection string does not parse: " + util::redactSecrets(why),
                       "use a libpq URI (postgresql://user@host/db) or key=value pairs "
                       "(host=... dbname=...)");
  }
  std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> guard(opts, PQconninfoFree);
  std::map<std::string, std::string> out;
  for (PQconninfoOption* o = opts; o->keyword; ++o) {
    if (o->val && *o->val) out[o->keyword] = o->val;
  }
  return out;
}

std::string buildConninfo(const std::string& dsn,
                          const std::map<std::string, std::string>& overrides) {
  auto kv = parseConninfo(dsn);
  for (const auto& [k, v] : overrides) {
    if (k == "options" && kv.count("options")) {
      kv[k] = kv[k] + " " + v;  // keep the user's own -c settings
    } else {
      kv[k] = v;
    }
  }
  std::string out;
  for (const auto& [k, v] : kv) {
    if (!out.empty()) out += ' ';
    out += k + "=" + quoteConninfoValue(v);
  }
  return out;
}

ChildConnection childConnection(const std::string& dsn) {
  auto kv = parseConninfo(dsn);
  ChildConnection out;
  if (auto it = kv.find("password"); it != kv.end()) {
    out.env["PGPASSWORD"] = it->second;
    kv.erase(it);
  }
  for (const auto& [k, v] : kv) {
    if (!out.conninfo.empty()) out.conninfo += ' ';
    out.conninfo += k + "=" + quoteConninfoValue(v);
  }
  return out;
}

std::string redactDsn(const std::string& dsn) {
  std::map<std::string, std::string> kv;
  try {
    kv = parseConninfo(dsn);
  } catch (const Error&) {
    return "(unparsable connection string)";
  }
  std::string out;
  for (const char* key : {"host", "hostaddr", "port", "dbname", "user", "service"}) {
    auto it = kv.find(key);
    if (it == kv.end()) continue;
    if (!out.empty()) out += ' ';
    out += std::string(key) + "=" + quoteConninfoValue(it->second);
  }
  return out.empty() ? "(PG* environment)" : out;
}

}  // namespace dbsplit::pg
