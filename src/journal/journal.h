// The local journal (DESIGN §5.4): a SQLite file in WAL mode with
// synchronous = FULL and mode 0600 that records the plan hash, steps, actions
// (SQL, hashes, status, timings, errors), runs, catalogue snapshots, compare
// results and an event log. Only src/engine writes it; commands read it.
//
// Thread-safety: one Journal per thread. Two processes may open the same file;
// SQLite's locking serialises writers, and a writer that cannot get the lock
// within the busy timeout gets Error(kLocked, "journal_locked").
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

struct sqlite3;

namespace dbsplit::journal {

// The schema version this build writes. A journal with a higher user_version was
// written by a newer dbsplit and is refused.
constexpr int kSchemaVersion = 2;

enum class StepStatus { kPending, kApplying, kApplied, kFailed, kRolledBack, kRollingBack };
enum class ActionStatus { kPending, kStarted, kApplied, kFailed, kRollingBack, kRolledBack };

const char* toString(StepStatus s);
const char* toString(ActionStatus s);
StepStatus stepStatusFromString(const std::string& s);
ActionStatus actionStatusFromString(const std::string& s);

struct ActionRecord {
  std::string step;
  int seq = 0;  // position in the step, from 0
  std::string id;
  std::string forward;
  std::string inverse;  // empty = irreversible
  std::string lock;     // e.g. "ACCESS EXCLUSIVE on public.orders"
  bool transactional = true;
  std::string verify;
  std::string sha256;
  ActionStatus status = ActionStatus::kPending;
  std::string started_at;  // ISO-8601 UTC, empty when never started
  std::string finished_at;
  std::int64_t duration_ms = 0;
  int attempts = 0;
  std::string error;
  std::string database;    // "" = the migration's database, else a [[service]] name
  std::string mover;       // "" = SQL action, else the data mover's name
  std::string mover_args;  // JSON handed to the mover
};

struct StepRecord {
  std::string name;
  StepStatus status = StepStatus::kPending;
  std::string plan_hash;   // hash of the plan inputs the step's actions came from
  std::string chain_hash;  // sha256 of the last action (the whole chain)
  int actions_total = 0;
  int actions_applied = 0;  // actions with status applied
  std::string updated_at;
  std::string error;
  std::string inputs;  // the inputs plan_hash hashes (canonical JSON); "" before version 2
};

struct RunRecord {
  std::int64_t id = 0;
  std::string command;  // "run", "rollback", "resume", ...
  std::string step;
  std::string mode;  // "apply", "rehearse", "rollback", "resume"
  std::string dsn;   // redacted: never holds a password
  int pid = 0;
  std::string started_at;
  std::string finished_at;
  int exit_code = -1;  // -1 while running or when the process died
};

struct EventRecord {
  std::int64_t id = 0;
  std::int64_t run_id = 0;
  std::string at;
  std::string kind;  // the JSON event's "event" value
  std::string step;
  std::string action_id;
  std::string json;  // the whole event
};

struct SnapshotRecord {
  std::int64_t id = 0;
  std::string taken_at;
  std::string kind;  // "catalogue", ...
  std::string body;  // JSON
};

class Journal {
 public:
  enum class Mode { kReadWrite, kReadOnly };

  // Opens (kReadWrite creates the file with mode 0600 when missing; its
  // directory must exist) and migrates forward to kSchemaVersion. Throws:
  //   Error(kUsage, "journal_dir_missing") when the directory does not exist,
  //   Error(kDrift, "journal_too_new") for a newer user_version,
  //   Error(kDrift, "journal_corrupt") when the file is not a dbsplit journal
  //     or fails `PRAGMA quick_check` (the file is left untouched),
  //   Error(kLocked, "journal_locked") when another process holds it.
  static std::unique_ptr<Journal> open(const std::string& path, Mode mode);
  static bool exists(const std::string& path);
  ~Journal();

  const std::string& path() const { return path_; }
  // The schema version this connection reads. An empty journal opened
  // kReadOnly is migrated in a private in-memory copy, so this is
  // kSchemaVersion for every open journal.
  int schemaVersion() const;
  // The value of a PRAGMA on this connection ("journal_mode", "synchronous"),
  // for diagnostics and tests; several are per connection, not per file.
  // REQUIRES: `name` is a bare pragma name ([a-z_]+).
  std::string pragma(const std::string& name) const;

  // Every method that writes throws Error(kStepFailed, "journal_read_only") on
  // a journal opened kReadOnly.

  // Key/value facts about the migration: "migration", "plan_hash", ...
  void setMeta(const std::string& key, const std::string& value);
  std::optional<std::string> meta(const std::string& key) const;

  // Stores a new run (unfinished: exit_code -1) and returns its id. An empty
  // started_at means now; the dsn is redacted again before it is stored.
  std::int64_t beginRun(const RunRecord& run);
  void endRun(std::int64_t run_id, int exit_code);
  // The latest `limit` runs (all when limit <= 0), oldest first.
  std::vector<RunRecord> runs(int limit) const;

  // Records the planned actions of a step, replacing any earlier record of the
  // step, with every action pending and the step set to `status`. Each action's
  // seq is its position in `actions` and its step is `step`; chain_hash is the
  // sha256 of the last action. `inputs` is the canonical JSON whose hash is
  // `plan_hash` (what drift compares the plan with).
  void recordStep(const std::string& step, const std::string& plan_hash,
                  const std::vector<ActionRecord>& actions, StepStatus status,
                  const std::string& inputs = {});
  std::optional<StepRecord> step(const std::string& name) const;
  std::vector<StepRecord> steps() const;
  void setStepStatus(const std::string& step, StepStatus status, const std::string& error = {});

  std::vector<ActionRecord> actions(const std::string& step) const;
  // Updates one action's status; `started` sets started_at, bumps attempts and
  // clears finished_at, duration_ms and error; applied, failed and rolled_back
  // set finished_at, duration_ms and the (redacted) error. An unknown step or
  // action throws Error(kStepFailed, "journal_error").
  void setActionStatus(const std::string& step, const std::string& action_id, ActionStatus status,
                       std::int64_t duration_ms = 0, const std::string& error = {});

  // Stores an event (run_id 0 = outside any run; an empty `at` means now).
  // The json is redacted before it is stored.
  void logEvent(const EventRecord& event);
  // The latest `limit` events (all when limit <= 0) of one run, or of all runs
  // when run_id_or_0 is 0, oldest first.
  std::vector<EventRecord> events(std::int64_t run_id_or_0, int limit) const;

  std::int64_t addSnapshot(const std::string& kind, const std::string& body);
  std::optional<SnapshotRecord> latestSnapshot(const std::string& kind) const;
  std::vector<SnapshotRecord> snapshots(const std::string& kind) const;
  // Removes one snapshot (a rolled-back step's record); unknown ids are ignored.
  void deleteSnapshot(std::int64_t id);

  // Runs `fn` inside one SQLite transaction (BEGIN IMMEDIATE); an exception
  // from `fn` rolls it back and propagates.
  // REQUIRES: not already inside transaction().
  template <typename Fn>
  void transaction(Fn&& fn);

 private:
  Journal(std::string path, sqlite3* db, Mode mode);
  void exec(const std::string& sql) const;
  void begin();
  void commit();
  void rollbackQuietly();

  std::string path_;
  sqlite3* db_;
  Mode mode_;
};

template <typename Fn>
void Journal::transaction(Fn&& fn) {
  begin();
  try {
    fn();
  } catch (...) {
    rollbackQuietly();
    throw;
  }
  commit();
}

}  // namespace dbsplit::journal
