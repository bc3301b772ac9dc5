// The journal's record of compares (see record.h).
#include "compare/record.h"

#include <sys/stat.h>
#include <unistd.h>

#include "fmt/format.h"

namespace dbsplit::compare {

CompareJournal::CompareJournal(const plan::Plan& plan, const std::string& dsn) {
  const std::string& path = plan.migration.journal;
  std::string plan_dir = plan.file.substr(0, plan.file.find_last_of('/'));
  std::string dir = path.substr(0, path.find_last_of('/'));
  if (dir == plan_dir + "/.dbsplit") ::mkdir(dir.c_str(), 0700);
  journal_ = journal::Journal::open(path, journal::Journal::Mode::kReadWrite);
  auto owner = journal_->meta("migration");
  if (owner && *owner != plan.migration.name) {
    throw Error::drift("journal_mismatch",
                       fmt::format("journal {} belongs to migration \"{}\", not \"{}\"", path,
                                   *owner, plan.migration.name),
                       "point [migration].journal at this migration's own journal");
  }
  journal::RunRecord run;
  run.command = "compare";
  run.mode = "compare";
  run.dsn = dsn;
  run.pid = static_cast<int>(::getpid());
  run_id_ = journal_->beginRun(run);
}

CompareJournal::~CompareJournal() {
  if (finished_) return;
  try {
    journal_->endRun(run_id_, toInt(ExitCode::kStepFailed));
  } catch (...) {
  }
}

void CompareJournal::record(const ConsumerReport& report) {
  journal_->addSnapshot("compare", report.toJson().dump());
}

void CompareJournal::finish(ExitCode code) {
  journal_->endRun(run_id_, toInt(code));
  finished_ = true;
}

}  // namespace dbsplit::compare
