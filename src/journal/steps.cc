// The step and action records: what each step planned, and how far each of its
// actions got. The engine's resume and the `status` command read these.
#include "fmt/format.h"
#include "journal/journal.h"
#include "journal/sqlite_util.h"
#include "util/text.h"
#include "util/time.h"

namespace dbsplit::journal {
namespace {

// Columns in the order readStep() expects; the counts are derived, never stored,
// so they cannot disagree with the actions table.
constexpr const char* kStepColumns =
    "SELECT s.name, s.status, s.plan_hash, s.chain_hash, s.updated_at, s.error,"
    "       (SELECT count(*) FROM actions a WHERE a.step = s.name),"
    "       (SELECT count(*) FROM actions a WHERE a.step = s.name AND a.status = 'applied'),"
    "       s.inputs"
    "  FROM steps s";

StepRecord readStep(const internal::Statement& st) {
  StepRecord r;
  r.name = st.text(0);
  r.status = stepStatusFromString(st.text(1));
  r.plan_hash = st.text(2);
  r.chain_hash = st.text(3);
  r.updated_at = st.text(4);
  r.error = st.text(5);
  r.actions_total = static_cast<int>(st.integer(6));
  r.actions_applied = static_cast<int>(st.integer(7));
  r.inputs = st.text(8);
  return r;
}

ActionRecord readAction(const internal::Statement& st) {
  ActionRecord r;
  r.step = st.text(0);
  r.seq = static_cast<int>(st.integer(1));
  r.id = st.text(2);
  r.forward = st.text(3);
  r.inverse = st.text(4);
  r.lock = st.text(5);
  r.transactional = st.integer(6) != 0;
  r.verify = st.text(7);
  r.sha256 = st.text(8);
  r.status = actionStatusFromString(st.text(9));
  r.started_at = st.text(10);
  r.finished_at = st.text(11);
  r.duration_ms = st.integer(12);
  r.attempts = static_cast<int>(st.integer(13));
  r.error = st.text(14);
  r.database = st.text(15);
  r.mover = st.text(16);
  r.mover_args = st.text(17);
  return r;
}

bool isTerminal(ActionStatus s) {
  return s == ActionStatus::kApplied || s == ActionStatus::kFailed ||
         s == ActionStatus::kRolledBack;
}

}  // namespace

void Journal::recordStep(const std::string& step, const std::string& plan_hash,
                         const std::vector<ActionRecord>& actions, StepStatus status,
                         const std::string& inputs) {
  if (mode_ == Mode::kReadOnly) throw internal::readOnlyError(path_);
  internal::atomically(db_, path_, [&] {
    internal::Statement clear(db_, path_, "DELETE FROM actions WHERE step = ?1");
    clear.bindText(1, step).run();

    // An upsert, not INSERT OR REPLACE: replacing the row would be a delete.
    internal::Statement upsert(
        db_, path_,
        "INSERT INTO steps (name, status, plan_hash, chain_hash, updated_at, error, inputs)"
        " VALUES (?1, ?2, ?3, ?4, ?5, '', ?6)"
        " ON CONFLICT (name) DO UPDATE SET status = excluded.status,"
        "   plan_hash = excluded.plan_hash, chain_hash = excluded.chain_hash,"
        "   updated_at = excluded.updated_at, error = '', inputs = excluded.inputs");
    upsert.bindText(1, step)
        .bindText(2, toString(status))
        .bindText(3, plan_hash)
        .bindText(4, actions.empty() ? std::string() : actions.back().sha256)
        .bindText(5, util::nowIso8601())
        .bindText(6, inputs)
        .run();

    internal::Statement insert(
        db_, path_,
        "INSERT INTO actions (step, seq, id, forward, inverse, lock, transactional, verify,"
        "                     sha256, status, target_database, mover, mover_args)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'pending', ?10, ?11, ?12)");
    for (size_t i = 0; i < actions.size(); ++i) {
      const ActionRecord& a = actions[i];
      insert.bindText(1, step)
          .bindInt(2, static_cast<std::int64_t>(i))
          .bindText(3, a.id)
          .bindText(4, a.forward)
          .bindText(5, a.inverse)
          .bindText(6, a.lock)
          .bindInt(7, a.transactional ? 1 : 0)
          .bindText(8, a.verify)
          .bindText(9, a.sha256)
          .bindText(10, a.database)
          .bindText(11, a.mover)
          .bindText(12, a.mover_args)
          .run();
      insert.reset();
    }
  });
}

std::optional<StepRecord> Journal::step(const std::string& name) const {
  std::string sql = std::string(kStepColumns) + " WHERE s.name = ?1";
  internal::Statement st(db_, path_, sql.c_str());
  st.bindText(1, name);
  if (!st.step()) return std::nullopt;
  return readStep(st);
}

std::vector<StepRecord> Journal::steps() const {
  std::string sql = std::string(kStepColumns) + " ORDER BY s.name";
  internal::Statement st(db_, path_, sql.c_str());
  std::vector<StepRecord> out;
  while (st.step()) out.push_back(readStep(st));
  return out;
}

void Journal::setStepStatus(const std::string& step, StepStatus status, const std::string& error) {
  if (mode_ == Mode::kReadOnly) throw internal::readOnlyError(path_);
  internal::Statement st(db_, path_,
                         "UPDATE steps SET status = ?2, error = ?3, updated_at = ?4"
                         " WHERE name = ?1");
  int changed = st.bindText(1, step)
                    .bindText(2, toString(status))
                    .bindText(3, util::redactSecrets(error))
                    .bindText(4, util::nowIso8601())
                    .run();
  if (changed == 0) {
    throw Error::stepFailed("journal_error",
                            fmt::format("journal {} has no record of step {}", path_, step),
                            "record the step's actions before changing its status");
  }
}

std::vector<ActionRecord> Journal::actions(const std::string& step) const {
  internal::Statement st(db_, path_,
                         "SELECT step, seq, id, forward, inverse, lock, transactional, verify,"
                         "       sha256, status, started_at, finished_at, duration_ms, attempts,"
                         "       error, target_database, mover, mover_args"
                         "  FROM actions WHERE step = ?1 ORDER BY seq");
  st.bindText(1, step);
  std::vector<ActionRecord> out;
  while (st.step()) out.push_back(readAction(st));
  return out;
}

void Journal::setActionStatus(const std::string& step, const std::string& action_id,
                              ActionStatus status, std::int64_t duration_ms,
                              const std::string& error) {
  if (mode_ == Mode::kReadOnly) throw internal::readOnlyError(path_);
  int changed = 0;
  if (status == ActionStatus::kStarted) {
    // A retry starts afresh: what the previous attempt left is no longer true.
    internal::Statement st(db_, path_,
                           "UPDATE actions SET status = 'started', started_at = ?3,"
                           "   finished_at = '', duration_ms = 0, attempts = attempts + 1,"
                           "   error = ''"
                           " WHERE step = ?1 AND id = ?2");
    changed = st.bindText(1, step).bindText(2, action_id).bindText(3, util::nowIso8601()).run();
  } else if (isTerminal(status)) {
    internal::Statement st(db_, path_,
                           "UPDATE actions SET status = ?3, finished_at = ?4, duration_ms = ?5,"
                           "   error = ?6"
                           " WHERE step = ?1 AND id = ?2");
    changed = st.bindText(1, step)
                  .bindText(2, action_id)
                  .bindText(3, toString(status))
                  .bindText(4, util::nowIso8601())
                  .bindInt(5, duration_ms)
                  .bindText(6, util::redactSecrets(error))
                  .run();
  } else {
    internal::Statement st(db_, path_,
                           "UPDATE actions SET status = ?3 WHERE step = ?1 AND id = ?2");
    changed = st.bindText(1, step).bindText(2, action_id).bindText(3, toString(status)).run();
  }
  if (changed == 0) {
    throw Error::stepFailed(
        "journal_error",
        fmt::format("journal {} has no action {} in step {}", path_, action_id, step),
        "record the step's actions before changing their status");
  }
}

}  // namespace dbsplit::journal
