// Journal lifetime, transactions, meta facts and the status names. Opening is
// in open.cc, the step/action records in steps.cc, runs/events/snapshots in
// history.cc.
#include "journal/journal.h"

#include "fmt/format.h"
#include "journal/sqlite_util.h"

namespace dbsplit::journal {
namespace {

// Why a table and not a switch per direction: one list keeps toString and
// fromString from drifting apart, and the names are what the journal stores.
template <typename Status>
struct StatusName {
  Status status;
  const char* name;
};
constexpr StatusName<StepStatus> kStepNames[] = {
    {StepStatus::kPending, "pending"},        {StepStatus::kApplying, "applying"},
    {StepStatus::kApplied, "applied"},        {StepStatus::kFailed, "failed"},
    {StepStatus::kRolledBack, "rolled_back"}, {StepStatus::kRollingBack, "rolling_back"},
};

constexpr StatusName<ActionStatus> kActionNames[] = {
    {ActionStatus::kPending, "pending"},          {ActionStatus::kStarted, "started"},
    {ActionStatus::kApplied, "applied"},          {ActionStatus::kFailed, "failed"},
    {ActionStatus::kRollingBack, "rolling_back"}, {ActionStatus::kRolledBack, "rolled_back"},
};

template <typename Status, size_t N>
const char* nameOf(const StatusName<Status> (&names)[N], Status s) {
  for (const auto& n : names) {
    if (n.status == s) return n.name;
  }
  return "unknown";
}

// `what` ("step", "action") names the kind of status in the error.
template <typename Status, size_t N>
Status statusNamed(const StatusName<Status> (&names)[N], const std::string& s, const char* what) {
  for (const auto& n : names) {
    if (s == n.name) return n.status;
  }
  throw Error::drift("journal_corrupt",
                     fmt::format("unknown {} status \"{}\" in the journal", what, s),
                     "the journal is damaged or was written by a newer dbsplit");
}

}  // namespace

const char* toString(StepStatus s) { return nameOf(kStepNames, s); }
const char* toString(ActionStatus s) { return nameOf(kActionNames, s); }

StepStatus stepStatusFromString(const std::string& s) { return statusNamed(kStepNames, s, "step"); }

ActionStatus actionStatusFromString(const std::string& s) {
  return statusNamed(kActionNames, s, "action");
}

Journal::Journal(std::string path, sqlite3* db, Mode mode)
    : path_(std::move(path)), db_(db), mode_(mode) {}

// sqlite3_close_v2 because a connection must be closed even if a statement
// escaped finalization; the last writer's close checkpoints and removes -wal.
Journal::~Journal() { sqlite3_close_v2(db_); }

int Journal::schemaVersion() const {
  return static_cast<int>(internal::pragmaInt(db_, path_, "user_version"));
}

std::string Journal::pragma(const std::string& name) const {
  bool bare =
      !name.empty() && name.find_first_not_of("abcdefghijklmnopqrstuvwxyz_") == std::string::npos;
  if (!bare) {
    throw Error::usage("journal_bad_pragma", fmt::format("\"{}\" is not a PRAGMA name", name));
  }
  std::string sql = "PRAGMA " + name;
  internal::Statement st(db_, path_, sql.c_str());
  return st.step() ? st.text(0) : std::string();
}

void Journal::exec(const std::string& sql) const { internal::execSql(db_, path_, sql); }

void Journal::begin() {
  if (mode_ == Mode::kReadOnly) throw internal::readOnlyError(path_);
  exec("BEGIN IMMEDIATE");
}

void Journal::commit() {
  try {
    exec("COMMIT");
  } catch (...) {
    // A failed COMMIT leaves the transaction open; close it so the journal
    // stays usable and the caller's error is the only outcome.
    rollbackQuietly();
    throw;
  }
}

void Journal::rollbackQuietly() {
  if (!sqlite3_get_autocommit(db_)) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
}

void Journal::setMeta(const std::string& key, const std::string& value) {
  if (mode_ == Mode::kReadOnly) throw internal::readOnlyError(path_);
  internal::Statement st(db_, path_,
                         "INSERT INTO meta (key, value) VALUES (?1, ?2)"
                         " ON CONFLICT (key) DO UPDATE SET value = excluded.value");
  st.bindText(1, key).bindText(2, value).run();
}

std::optional<std::string> Journal::meta(const std::string& key) const {
  internal::Statement st(db_, path_, "SELECT value FROM meta WHERE key = ?1");
  st.bindText(1, key);
  if (!st.step()) return std::nullopt;
  return st.text(0);
}

}  // namespace dbsplit::journal
