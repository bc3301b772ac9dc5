// findBindir: where the PostgreSQL server binaries are. Debian keeps them off
// PATH (/usr/lib/postgresql/<major>/bin), so PATH is the last place to look.
#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "fmt/format.h"
#include "sandbox/sandbox.h"
#include "util/error.h"
#include "util/process.h"

namespace dbsplit::sandbox {

using util::lastLines;
using util::ProcessResult;
using util::runProcess;
namespace {

bool hasServerBinaries(const std::string& dir) {
  return !dir.empty() && ::access((dir + "/initdb").c_str(), X_OK) == 0 &&
         ::access((dir + "/pg_ctl").c_str(), X_OK) == 0;
}

Error missing(const std::string& where) {
  return Error::precondition(
      "postgres_missing",
      fmt::format("PostgreSQL server binaries (initdb, pg_ctl) not found; looked in {}", where),
      "install them: apt-get install postgresql-15 (or set DBSPLIT_PG_BINDIR to their directory)");
}

std::string fromPgConfig() {
  try {
    ProcessResult r = runProcess({"pg_config", "--bindir"});
    if (r.exit_code != 0) return {};
    std::string dir = r.output;
    while (!dir.empty() && (dir.back() == '\n' || dir.back() == '\r')) dir.pop_back();
    return dir;
  } catch (const Error&) {
    return {};  // no pg_config on PATH: not an error, just not a place to look
  }
}

// /usr/lib/postgresql/<major>/bin for the highest numeric major.
std::string newestDebianBindir() {
  const std::string root = "/usr/lib/postgresql";
  DIR* d = ::opendir(root.c_str());
  if (d == nullptr) return {};
  std::vector<std::pair<double, std::string>> found;
  while (struct dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name.empty() || name.find_first_not_of("0123456789.") != std::string::npos) continue;
    std::string bin = root + "/" + name + "/bin";
    if (hasServerBinaries(bin)) found.emplace_back(std::atof(name.c_str()), bin);
  }
  ::closedir(d);
  if (found.empty()) return {};
  return std::max_element(found.begin(), found.end())->second;
}

std::string onPath() {
  const char* path = std::getenv("PATH");
  if (path == nullptr) return {};
  std::string all = path;
  size_t start = 0;
  while (start <= all.size()) {
    size_t end = all.find(':', start);
    if (end == std::string::npos) end = all.size();
    std::string dir = all.substr(start, end - start);
    if (dir.empty()) dir = ".";
    if (hasServerBinaries(dir)) return dir;
    start = end + 1;
  }
  return {};
}

}  // namespace

std::string findBindir(const std::string& preferred) {
  // An explicit choice is honoured strictly: silently using another
  // PostgreSQL than the one asked for would be worse than failing.
  if (!preferred.empty()) {
    if (hasServerBinaries(preferred)) return preferred;
    throw missing(preferred);
  }
  if (const char* env = std::getenv("DBSPLIT_PG_BINDIR"); env != nullptr && *env != '\0') {
    if (hasServerBinaries(env)) return env;
    throw missing(fmt::format("DBSPLIT_PG_BINDIR={}", env));
  }
  std::string dir = fromPgConfig();
  if (hasServerBinaries(dir)) return dir;
  dir = newestDebianBindir();
  if (!dir.empty()) return dir;
  dir = onPath();
  if (!dir.empty()) return dir;
  throw missing("pg_config --bindir, /usr/lib/postgresql/*/bin and PATH");
}

}  // namespace dbsplit::sandbox
