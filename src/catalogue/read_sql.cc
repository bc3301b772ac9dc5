// SQL files: split with libpg_query's scanner so that one bad statement does
// not hide the others; each statement is located by file:line.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "catalogue/pg_query.h"
#include "catalogue/readers.h"
#include "fmt/format.h"

namespace dbsplit::catalogue {
namespace fs = std::filesystem;

namespace {

std::string serviceOf(const std::string& name, const plan::Plan* plan) {
  return plan && plan->findService(name) ? name : std::string();
}

void readOne(const fs::path& file, const std::string& service, Sink& sink) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream buf;
  buf << in.rdbuf();
  std::string script = buf.str();
  if (script.find('\0') != std::string::npos) {
    sink.skipped(file.string() + ":1", "binary file, not SQL: skipped whole");
    return;
  }
  std::string error;
  auto pieces = pgq::split(script, &error);
  if (!error.empty()) {
    // The scanner failed (an unterminated quote): keep the file as one statement.
    pieces = {{script, 0}};
  }
  for (const auto& p : pieces) {
    size_t start = static_cast<size_t>(p.offset);
    size_t skip = p.sql.find_first_not_of(" \t\r\n");
    if (skip == std::string::npos) continue;
    start += skip;
    int line = 1 + static_cast<int>(std::count(script.begin(), script.begin() + start, '\n'));
    Observation o;
    o.text = p.sql.substr(skip);
    o.service = service;
    o.where = fmt::format("{}:{}", file.string(), line);
    sink.statement(o);
  }
}

}  // namespace

void readSqlFiles(const std::string& path, const std::string& service, const plan::Plan* plan,
                  Sink& sink) {
  fs::path root(path);
  if (!fs::is_directory(root)) {
    readOne(root,
            service.empty() ? serviceOf(root.parent_path().filename().string(), plan) : service,
            sink);
    return;
  }
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (e.is_regular_file() && e.path().extension() == ".sql") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  std::string folder_service = serviceOf(root.lexically_normal().filename().string(), plan);
  if (folder_service.empty())
    folder_service = serviceOf(root.parent_path().filename().string(), plan);
  for (const auto& f : files) {
    std::string s = service;
    if (s.empty()) {
      fs::path rel = f.lexically_relative(root);
      if (std::distance(rel.begin(), rel.end()) > 1) s = serviceOf(rel.begin()->string(), plan);
    }
    if (s.empty()) s = folder_service;
    readOne(f, s, sink);
  }
}

}  // namespace dbsplit::catalogue
