// pgbench's per-transaction logs (--log): what the e2e load tests measure.
#pragma once

#include <string>

namespace dbsplit::test {

struct PgbenchLog {
  long long transactions = 0;  // committed (skipped and failed ones are left out)
  long long longest_us = 0;    // the longest latency
};

// Reads every log file in `dir` (lines: client_id transaction_no latency_us ...).
PgbenchLog readPgbenchLogs(const std::string& dir);

// The lines of pgbench's own output that report an error or an aborted client
// (at most `limit`), so a failing test shows why in its first lines.
std::string pgbenchErrors(const std::string& output, int limit = 6);

}  // namespace dbsplit::test
