// The journal's history: runs (one per command that changed something),
// the event log (`dbsplit log`) and catalogue snapshots (`catalogue --since`).
#include "fmt/format.h"
#include "journal/journal.h"
#include "journal/sqlite_util.h"
#include "util/text.h"
#include "util/time.h"

namespace dbsplit::journal {
namespace {

// SQLite reads LIMIT -1 as "no limit".
std::int64_t sqlLimit(int limit) { return limit > 0 ? limit : -1; }

RunRecord readRun(const internal::Statement& st) {
  RunRecord r;
  r.id = st.integer(0);
  r.command = st.text(1);
  r.step = st.text(2);
  r.mode = st.text(3);
  r.dsn = st.text(4);
  r.pid = static_cast<int>(st.integer(5));
  r.started_at = st.text(6);
  r.finished_at = st.text(7);
  r.exit_code = static_cast<int>(st.integer(8));
  return r;
}

EventRecord readEvent(const internal::Statement& st) {
  EventRecord r;
  r.id = st.integer(0);
  r.run_id = st.integer(1);  // NULL (no run) reads as 0
  r.at = st.text(2);
  r.kind = st.text(3);
  r.step = st.text(4);
  r.action_id = st.text(5);
  r.json = st.text(6);
  return r;
}

SnapshotRecord readSnapshot(const internal::Statement& st) {
  SnapshotRecord r;
  r.id = st.integer(0);
  r.taken_at = st.text(1);
  r.kind = st.text(2);
  r.body = st.text(3);
  return r;
}

}  // namespace

std::int64_t Journal::beginRun(const RunRecord& run) {
  if (mode_ == Mode::kReadOnly) throw internal::readOnlyError(path_);
  internal::Statement st(db_, path_,
                         "INSERT INTO runs (command, step, mode, dsn, pid, started_at)"
                         " VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  st.bindText(1, run.command)
      .bindText(2, run.step)
      .bindText(3, run.mode)
      .bindText(4, util::redactSecrets(run.dsn))
      .bindInt(5, run.pid)
      .bindText(6, run.started_at.empty() ? util::nowIso8601() : run.started_at)
      .run();
  return sqlite3_last_insert_rowid(db_);
}

void Journal::endRun(std::int64_t run_id, int exit_code) {
  if (mode_ == Mode::kReadOnly) throw internal::readOnlyError(path_);
  internal::Statement st(db_, path_,
                         "UPDATE runs SET finished_at = ?2, exit_code = ?3 WHERE id = ?1");
  int changed = st.bindInt(1, run_id).bindText(2, util::nowIso8601()).bindInt(3, exit_code).run();
  if (changed == 0) {
    throw Error::stepFailed("journal_error", fmt::format("journal {} has no run {}", path_, run_id),
                            "end only a run that beginRun() returned");
  }
}

std::vector<RunRecord> Journal::runs(int limit) const {
  internal::Statement st(db_, path_,
                         "SELECT * FROM ("
                         "  SELECT id, command, step, mode, dsn, pid, started_at, finished_at,"
                         "         exit_code"
                         "    FROM runs ORDER BY id DESC LIMIT ?1"
                         ") ORDER BY id");
  st.bindInt(1, sqlLimit(limit));
  std::vector<RunRecord> out;
  while (st.step()) out.push_back(readRun(st));
  return out;
}

void Journal::logEvent(const EventRecord& event) {
  if (mode_ == Mode::kReadOnly) throw internal::readOnlyError(path_);
  internal::Statement st(db_, path_,
                         "INSERT INTO events (run_id, at, kind, step, action_id, json)"
                         " VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  if (event.run_id != 0) {
    st.bindInt(1, event.run_id);
  } else {
    st.bindNull(1);
  }
  st.bindText(2, event.at.empty() ? util::nowIso8601() : event.at)
      .bindText(3, event.kind)
      .bindText(4, event.step)
      .bindText(5, event.action_id)
      .bindText(6, util::redactSecrets(event.json))
      .run();
}

std::vector<EventRecord> Journal::events(std::int64_t run_id_or_0, int limit) const {
  internal::Statement st(db_, path_,
                         "SELECT * FROM ("
                         "  SELECT id, run_id, at, kind, step, action_id, json"
                         "    FROM events WHERE ?1 = 0 OR run_id = ?1"
                         "   ORDER BY id DESC LIMIT ?2"
                         ") ORDER BY id");
  st.bindInt(1, run_id_or_0).bindInt(2, sqlLimit(limit));
  std::vector<EventRecord> out;
  while (st.step()) out.push_back(readEvent(st));
  return out;
}

std::int64_t Journal::addSnapshot(const std::string& kind, const std::string& body) {
  if (mode_ == Mode::kReadOnly) throw internal::readOnlyError(path_);
  internal::Statement st(db_, path_,
                         "INSERT INTO snapshots (taken_at, kind, body) VALUES (?1, ?2, ?3)");
  st.bindText(1, util::nowIso8601()).bindText(2, kind).bindText(3, body).run();
  return sqlite3_last_insert_rowid(db_);
}

void Journal::deleteSnapshot(std::int64_t id) {
  if (mode_ == Mode::kReadOnly) throw internal::readOnlyError(path_);
  internal::Statement st(db_, path_, "DELETE FROM snapshots WHERE id = ?1");
  st.bindInt(1, id).run();
}

std::optional<SnapshotRecord> Journal::latestSnapshot(const std::string& kind) const {
  internal::Statement st(db_, path_,
                         "SELECT id, taken_at, kind, body FROM snapshots WHERE kind = ?1"
                         " ORDER BY id DESC LIMIT 1");
  st.bindText(1, kind);
  if (!st.step()) return std::nullopt;
  return readSnapshot(st);
}

std::vector<SnapshotRecord> Journal::snapshots(const std::string& kind) const {
  internal::Statement st(db_, path_,
                         "SELECT id, taken_at, kind, body FROM snapshots WHERE kind = ?1"
                         " ORDER BY id");
  st.bindText(1, kind);
  std::vector<SnapshotRecord> out;
  while (st.step()) out.push_back(readSnapshot(st));
  return out;
}

}  // namespace dbsplit::journal
