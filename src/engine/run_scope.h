// One journaled run: records it in the journal, sends every reported event to
// the journal's event log while it lasts, and closes it with an exit code (a
// run that ends by an exception without finish() is closed as failed).
#pragma once

#include <string>
#include <vector>

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
  // Writes the buffered events. REQUIRES: inside a journal transaction, so they
  // share its single fsync with the state change that follows them.
  void flushEvents();
  void finish(ExitCode code);

 private:
  journal::Journal& journal_;
  util::Reporter& out_;
  std::int64_t id_ = 0;
  bool finished_ = false;
  // Events are history, not state: they wait for the next journal transaction
  // instead of costing an fsync each.
  std::vector<journal::EventRecord> pending_;
};

// Points `*slot` at `scope` for the lifetime of the guard.
class ScopeGuard {
 public:
  ScopeGuard(RunScope** slot, RunScope* scope) : slot_(slot) { *slot_ = scope; }
  ~ScopeGuard() { *slot_ = nullptr; }
  ScopeGuard(const ScopeGuard&) = delete;
  ScopeGuard& operator=(const ScopeGuard&) = delete;

 private:
  RunScope** slot_;
};

}  // namespace dbsplit::engine
