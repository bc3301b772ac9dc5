// Source syntax and the up-front checks that make bad input fail before
// anything is read or stored.
#include "catalogue/source.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "catalogue/log_reader.h"
#include "fmt/format.h"
#include "util/error.h"

namespace dbsplit::catalogue {
namespace fs = std::filesystem;

namespace {
Error invalid(const std::string& where, const std::string& msg) {
  return Error::usage("catalogue_source_invalid", fmt::format("{}: {}", where, msg),
                      "write pg_stat_statements, log:PATH[@service] or sql:PATH[@service]");
}
}  // namespace

Source parseSource(const std::string& text, const std::string& where, const plan::Plan* plan) {
  Source s;
  s.text = text;
  s.where = where;
  if (text == "pg_stat_statements") return s;
  size_t colon = text.find(':');
  std::string kind = colon == std::string::npos ? text : text.substr(0, colon);
  if (kind == "log") {
    s.kind = Source::Kind::kLog;
  } else if (kind == "sql") {
    s.kind = Source::Kind::kSql;
  } else {
    throw invalid(where, fmt::format("unknown source \"{}\"", text));
  }
  s.path = colon == std::string::npos ? std::string() : text.substr(colon + 1);
  size_t at = s.path.rfind('@');
  if (at != std::string::npos && s.path.find('/', at) == std::string::npos) {
    std::string service = s.path.substr(at + 1);
    std::error_code ec;
    bool path_exists = fs::exists(s.path, ec);
    if (!path_exists) {
      if (!plan || !plan->findService(service)) {
        throw invalid(where,
                      fmt::format("\"{}\": the plan declares no service \"{}\"", text, service));
      }
      s.service = service;
      s.path = s.path.substr(0, at);
    }
  }
  if (s.path.empty()) throw invalid(where, fmt::format("\"{}\" names no file", text));
  return s;
}

std::vector<Source> chooseSources(const std::vector<std::string>& cli, const plan::Plan* plan) {
  std::vector<Source> out;
  if (!cli.empty()) {
    for (const auto& c : cli) out.push_back(parseSource(c, "--source", plan));
  } else if (plan && !plan->catalogue.sources.empty()) {
    const auto& cs = plan->catalogue;
    for (size_t i = 0; i < cs.sources.size(); ++i) {
      std::string where = i < cs.source_pos.size() ? cs.source_pos[i].str() : plan->file;
      Source s = parseSource(cs.sources[i], where, plan);
      // Relative paths in a plan are relative to the plan file.
      if (!s.path.empty() && fs::path(s.path).is_relative()) {
        s.path = (fs::path(plan->file).parent_path() / s.path).lexically_normal().string();
      }
      out.push_back(std::move(s));
    }
  } else {
    out.push_back(parseSource("pg_stat_statements", "default", plan));
  }
  return out;
}

void checkSources(const std::vector<Source>& sources) {
  for (const auto& s : sources) {
    if (s.kind == Source::Kind::kPgStatStatements) continue;
    std::error_code ec;
    auto status = fs::status(s.path, ec);
    bool dir = fs::is_directory(status);
    bool readable = fs::exists(status) && ::access(s.path.c_str(), R_OK) == 0;
    if (readable && !dir) readable = std::ifstream(s.path).good();
    if (!readable || (dir && s.kind == Source::Kind::kLog)) {
      throw Error::usage("catalogue_source_unreadable",
                         fmt::format("{}: cannot read {} ({})", s.where, s.path,
                                     !fs::exists(status) ? "no such file"
                                     : dir               ? "a folder, not a log file"
                                                         : "permission denied"),
                         "check the path; sql: sources take folders, log: sources take files");
    }
    if (s.kind == Source::Kind::kLog) {
      std::string why;
      if (sniffLogFormat(s.path, &why) == LogFormat::kUnknown) {
        throw Error::usage("catalogue_log_format",
                           fmt::format("{}: {} is not a PostgreSQL log in a known format: {}",
                                       s.where, s.path, why),
                           "dbsplit reads stderr, csvlog and jsonlog logs with log_statement "
                           "or log_min_duration_statement lines");
      }
    }
  }
}

}  // namespace dbsplit::catalogue
