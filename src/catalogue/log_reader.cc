// Log formats. The csvlog columns are those of PostgreSQL 13-16 (message is
// the 14th, application_name the 23rd); jsonlog keys are PostgreSQL 15's.
#include "catalogue/log_reader.h"

#include "catalogue/log_message.h"

#include <cctype>
#include <cstring>
#include <fstream>
#include <unordered_map>
#include <vector>

#include "fmt/format.h"
#include "nlohmann/json.hpp"
#include "util/text.h"

namespace dbsplit::catalogue {
namespace {

// "2026-11-23 12:00:00.123 UTC,..." : a csvlog record starts with a timestamp and a comma.
bool looksLikeCsvRecord(const std::string& line) {
  if (line.size() < 20) return false;
  for (int i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (line[i] < '0' || line[i] > '9') return false;
  }
  if (line[4] != '-' || line[7] != '-') return false;
  size_t comma = line.find(',');
  return comma != std::string::npos && comma < 40 && line.find(' ') < comma;
}

const char* const kSeverities[] = {
    "LOG:  ",    "ERROR:  ",  "WARNING:  ", "DETAIL:  ",  "HINT:  ",      "FATAL:  ",
    "PANIC:  ",  "NOTICE:  ", "INFO:  ",    "CONTEXT:  ", "STATEMENT:  ", "DEBUG1:  ",
    "DEBUG2:  ", "DEBUG3:  ", "DEBUG4:  ",  "DEBUG5:  ",  "QUERY:  ",     "LOCATION:  "};

// Position of the severity label of a stderr line ("LOG:  "), npos when there
// is none: the first "WORD:  " whose WORD is a severity (one scan of the line).
size_t severityAt(const std::string& line, const char** which) {
  for (size_t p = line.find(":  "); p != std::string::npos; p = line.find(":  ", p + 1)) {
    size_t q = p;
    while (q > 0 && ((line[q - 1] >= 'A' && line[q - 1] <= 'Z') ||
                     (line[q - 1] >= '0' && line[q - 1] <= '9'))) {
      --q;
    }
    for (const char* sev : kSeverities) {
      size_t n = std::strlen(sev) - 3;  // without ":  "
      if (p - q == n && line.compare(q, n, sev, n) == 0) {
        *which = sev;
        return q;
      }
    }
  }
  return std::string::npos;
}

// True when `rec` ends inside a quoted field (a record continues on the next line).
bool openQuote(const std::string& rec) {
  bool quoted = false;
  for (char c : rec) {
    if (c == '"') quoted = !quoted;
  }
  return quoted;
}

class LogParser {
 public:
  LogParser(const std::string& path, const std::string& service, Sink& sink)
      : path_(path), service_(service), sink_(sink) {}

  void message(const std::string& msg, const std::string& user, const std::string& app,
               const std::string& session, size_t line) {
    std::string text = statementOfMessage(msg);
    if (text.empty()) return;
    if (util::startsWith(msg, "AUDIT: ") && !auditFirstSighting(msg, session)) return;
    Observation o;
    o.text = std::move(text);
    o.role = user;
    o.application = app;
    o.service = service_;
    o.where = fmt::format("{}:{}", path_, line);
    sink_.statement(o);
  }

  void skip(size_t line, const std::string& why) {
    sink_.skipped(fmt::format("{}:{}", path_, line), why);
  }

 private:
  // pgaudit logs one line per relation of a statement (log_relation, object
  // audit); the statement counts once per (session, statement id, substatement id).
  bool auditFirstSighting(const std::string& msg, const std::string& session) {
    auto f = csvFields(msg.substr(7));
    if (f.size() < 3) return true;
    std::string id = f[1] + "/" + f[2];
    std::string& last = last_audit_[session];
    if (last == id) return false;
    last = id;
    if (last_audit_.size() > 10000) last_audit_.clear();  // bounded memory
    return true;
  }

  std::string path_;
  std::string service_;
  Sink& sink_;
  std::unordered_map<std::string, std::string> last_audit_;
};

void readCsv(std::istream& in, LogParser& p) {
  std::string line, rec;
  size_t lineno = 0, start = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (rec.empty()) {
      if (line.empty()) continue;
      if (!looksLikeCsvRecord(line)) {
        p.skip(lineno, "not a csvlog record");
        continue;
      }
      start = lineno;
      rec = line;
    } else {
      rec += '\n';
      rec += line;
    }
    if (openQuote(rec)) continue;
    auto f = csvFields(rec);
    rec.clear();
    if (f.size() < 14) {
      p.skip(start, "csvlog record with too few fields");
      continue;
    }
    p.message(f[13], f[1], f.size() > 22 ? f[22] : std::string(), f[5], start);
  }
  if (!rec.empty()) p.skip(start, "truncated csvlog record (the file ends inside a quoted field)");
}

void readJson(std::istream& in, LogParser& p) {
  std::string line;
  size_t lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      p.skip(lineno, "not a jsonlog record");
      continue;
    }
    auto s = [&](const char* k) {
      auto it = j.find(k);
      return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    p.message(s("message"), s("user"), s("application_name"), s("session_id"), lineno);
  }
}

void readStderr(std::istream& in, LogParser& p) {
  std::string line;
  size_t lineno = 0;
  struct Pending {
    std::string msg, user, app, session;
    size_t line = 0;
  } pending;
  auto flush = [&] {
    if (!pending.msg.empty()) {
      p.message(pending.msg, pending.user, pending.app, pending.session, pending.line);
    }
    pending = Pending();
  };
  while (std::getline(in, line)) {
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    if (line[0] == '\t') {  // continuation of a multi-line message
      if (!pending.msg.empty()) pending.msg += "\n" + line.substr(1);
      continue;
    }
    const char* sev = nullptr;
    size_t at = severityAt(line, &sev);
    if (at == std::string::npos) {
      flush();
      p.skip(lineno, "not a PostgreSQL log line");
      continue;
    }
    flush();
    if (std::string(sev) != "LOG:  ") continue;  // errors, details: no statement run
    std::string prefix = line.substr(0, at);
    prefixFields(prefix, &pending.user, &pending.app);
    size_t bracket = prefix.find('[');
    pending.session =
        bracket == std::string::npos ? "" : prefix.substr(bracket, prefix.find(']') - bracket);
    pending.msg = line.substr(at + 6);
    pending.line = lineno;
  }
  flush();
}

}  // namespace

LogFormat sniffLogFormat(const std::string& path, std::string* why) {
  std::ifstream in(path, std::ios::binary);
  std::string head(65536, '\0');
  in.read(&head[0], static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<size_t>(in.gcount()));
  if (head.empty()) return LogFormat::kEmpty;
  if (head.find('\0') != std::string::npos) return LogFormat::kBinary;
  size_t pos = 0;
  int looked = 0;
  while (pos < head.size() && looked < 200) {
    size_t nl = head.find('\n', pos);
    std::string line = head.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? head.size() : nl + 1;
    if (line.empty()) continue;
    ++looked;
    if (line[0] == '{') {
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (!j.is_discarded() && j.is_object() && j.contains("message")) return LogFormat::kJson;
    }
    if (looksLikeCsvRecord(line)) return LogFormat::kCsv;
    const char* sev = nullptr;
    if (severityAt(line, &sev) != std::string::npos) return LogFormat::kStderr;
  }
  if (why) *why = "none of its first lines is a stderr, csvlog or jsonlog line";
  return LogFormat::kUnknown;
}

bool readLog(const std::string& path, const std::string& service, Sink& sink) {
  std::string why;
  LogFormat format = sniffLogFormat(path, &why);
  if (format == LogFormat::kBinary) {
    sink.skipped(path + ":1", "binary file, not a log: skipped whole");
    return false;
  }
  if (format == LogFormat::kEmpty) return true;
  std::ifstream in(path, std::ios::binary);
  LogParser parser(path, service, sink);
  if (format == LogFormat::kCsv) {
    readCsv(in, parser);
  } else if (format == LogFormat::kJson) {
    readJson(in, parser);
  } else {
    readStderr(in, parser);
  }
  return true;
}

}  // namespace dbsplit::catalogue
