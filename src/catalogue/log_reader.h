// Reading statements out of PostgreSQL server logs: stderr (with any
// log_line_prefix; user and application taken from user=/app= or %u@%d),
// csvlog and jsonlog, including log_statement lines, log_min_duration_statement
// lines, extended-protocol `execute` lines and pgaudit `AUDIT:` lines. Lines
// that are not log lines are reported to the sink with file:line and skipped.
#pragma once

#include <string>

#include "catalogue/sink.h"

namespace dbsplit::catalogue {

enum class LogFormat { kStderr, kCsv, kJson, kBinary, kEmpty, kUnknown };

// Looks at the start of the file. kUnknown sets `why`.
LogFormat sniffLogFormat(const std::string& path, std::string* why);

// Reads the whole log; returns false when nothing could be read (a binary file).
bool readLog(const std::string& path, const std::string& service, Sink& sink);

// The statement in a log message ("statement: ...", "duration: 1.2 ms
// execute <unnamed>: ...", "AUDIT: SESSION,..."), or "" when the message
// carries none. Exposed for tests.
std::string statementOfMessage(const std::string& message);

}  // namespace dbsplit::catalogue
