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

}  // namespace dbsplit::test
