// Opening a migration's journal (see journal_access.h).
#include "engine/journal_access.h"

#include <sys/stat.h>

#include "fmt/format.h"
#include "util/error.h"

namespace dbsplit::engine {

std::unique_ptr<journal::Journal> openJournalForWriting(const plan::Plan& plan) {
  const std::string& path = plan.migration.journal;
  // The default .dbsplit/ folder beside the plan is ours to create; a folder the
  // user named explicitly must already exist (a typo should not scatter journals).
  std::string plan_dir = plan.file.substr(0, plan.file.find_last_of('/'));
  std::string dir = path.substr(0, path.find_last_of('/'));
  if (dir == plan_dir + "/.dbsplit") ::mkdir(dir.c_str(), 0700);
  auto journal = journal::Journal::open(path, journal::Journal::Mode::kReadWrite);
  // Two plans pointed at one journal would otherwise mix their steps' records.
  if (!journal->meta("migration")) journal->setMeta("migration", plan.migration.name);
  checkJournalOwner(plan, *journal);
  return journal;
}

void checkJournalOwner(const plan::Plan& plan, journal::Journal& journal) {
  auto owner = journal.meta("migration");
  if (owner && *owner != plan.migration.name) {
    throw Error::drift("journal_mismatch",
                       fmt::format("journal {} belongs to migration \"{}\", not \"{}\"",
                                   journal.path(), *owner, plan.migration.name),
                       "point [migration].journal at this migration's own journal");
  }
}

}  // namespace dbsplit::engine
