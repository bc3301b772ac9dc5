// pgbench's per-transaction logs (pgbench_log.h).
#include "support/pgbench_log.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace dbsplit::test {

PgbenchLog readPgbenchLogs(const std::string& dir) {
  PgbenchLog log;
  for (const auto& f : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(f.path());
    std::string line;
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string client, tx, latency;
      fields >> client >> tx >> latency;
      if (latency.empty() || latency == "skipped" || latency == "failed") continue;
      log.longest_us = std::max(log.longest_us, std::stoll(latency));
      ++log.transactions;
    }
  }
  return log;
}

std::string pgbenchErrors(const std::string& output, int limit) {
  std::istringstream in(output);
  std::string line, found;
  int n = 0;
  while (n < limit && std::getline(in, line)) {
    if (line.find("error") == std::string::npos && line.find("aborted") == std::string::npos &&
        line.find("FATAL") == std::string::npos && line.find("ERROR") == std::string::npos) {
      continue;
    }
    found += line + "\n";
    ++n;
  }
  return found;
}

}  // namespace dbsplit::test
