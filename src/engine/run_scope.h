// One journaled run: records it in the journal, sends every reported event to
// the journal's event log while it lasts, and closes it with an exit code (a
// run that ends by an exception without finish() is closed as failed).
#pragma once

#include <string>

#include "journal/journal.h"
#include "util/error.h"
#include "util/reporter.h"

namespace dbsplit::engine {

class RunScope {
 public:
  RunScope(journal::Journal& journal, util::Reporter& out, const std::string& command,
           const std::string& step, const std::string& mode, const std::string& redacted_dsn);
  ~RunScope();
  RunScope(const RunScope&) = delete;
  RunScope& operator=(const RunScope&) = delete;

  std::int64_t id() const { return id_; }
  void finish(ExitCode code);

 private:
  journal::Journal& journal_;
  util::Reporter& out_;
  std::int64_t id_ = 0;
  bool finished_ = false;
};

}  // namespace dbsplit::engine
