// The journal's record of compares: one run ("compare") per invocation and one
// snapshot of kind "compare" per consumer, failed compares included (clean =
// false with the error), so step 5's gate sees the latest word on each
// consumer.
//
// Thread-safety: one CompareJournal per thread.
#pragma once

#include <cstdint>
#include <memory>

#include "compare/compare.h"
#include "journal/journal.h"
#include "plan/plan.h"

namespace dbsplit::compare {

class CompareJournal {
 public:
  // Opens the migration's journal for writing, as `dbsplit run` does (the
  // default .dbsplit/ folder beside the plan is created), and starts a run.
  // Throws Error(kDrift, "journal_mismatch") for another migration's journal.
  CompareJournal(const plan::Plan& plan, const std::string& dsn);
  ~CompareJournal();

  void record(const ConsumerReport& report);
  void finish(ExitCode code);

 private:
  std::unique_ptr<journal::Journal> journal_;
  std::int64_t run_id_ = 0;
  bool finished_ = false;
};

}  // namespace dbsplit::compare
