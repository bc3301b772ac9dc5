// The journal's migrations (version 1 = the schema of the first release;
// version 2 keeps each step's canonical inputs) and the code that applies them. Columns are NOT
// NULL with '' / 0 defaults so that records read back exactly as they were written; CHECKs keep a
// bug from storing a status that toString() cannot produce.
#include "journal/schema.h"

#include <iterator>

#include "fmt/format.h"
#include "journal/journal.h"
#include "journal/sqlite_util.h"

namespace dbsplit::journal::internal {
namespace {

constexpr Migration kMigrations[] = {
    {1, R"sql(
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

CREATE TABLE runs (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  command     TEXT NOT NULL,
  step        TEXT NOT NULL DEFAULT '',
  mode        TEXT NOT NULL DEFAULT '',
  dsn         TEXT NOT NULL DEFAULT '',
  pid         INTEGER NOT NULL DEFAULT 0,
  started_at  TEXT NOT NULL,
  finished_at TEXT NOT NULL DEFAULT '',
  exit_code   INTEGER NOT NULL DEFAULT -1
);

CREATE TABLE steps (
  name        TEXT PRIMARY KEY,
  status      TEXT NOT NULL CHECK (status IN ('pending', 'applying', 'applied', 'failed',
                                              'rolled_back', 'rolling_back')),
  plan_hash   TEXT NOT NULL DEFAULT '',
  chain_hash  TEXT NOT NULL DEFAULT '',
  updated_at  TEXT NOT NULL,
  error       TEXT NOT NULL DEFAULT ''
);

CREATE TABLE actions (
  step          TEXT NOT NULL REFERENCES steps (name) ON DELETE CASCADE,
  seq           INTEGER NOT NULL,
  id            TEXT NOT NULL,
  forward       TEXT NOT NULL,
  inverse       TEXT NOT NULL DEFAULT '',
  lock          TEXT NOT NULL DEFAULT '',
  transactional INTEGER NOT NULL DEFAULT 1 CHECK (transactional IN (0, 1)),
  verify        TEXT NOT NULL DEFAULT '',
  sha256        TEXT NOT NULL,
  status        TEXT NOT NULL CHECK (status IN ('pending', 'started', 'applied', 'failed',
                                                'rolling_back', 'rolled_back')),
  started_at    TEXT NOT NULL DEFAULT '',
  finished_at   TEXT NOT NULL DEFAULT '',
  duration_ms   INTEGER NOT NULL DEFAULT 0,
  attempts      INTEGER NOT NULL DEFAULT 0,
  error         TEXT NOT NULL DEFAULT '',
  -- Actions that run on another database (a service's own) or that are
  -- carried out by a data mover rather than SQL (engine/mover.h).
  target_database TEXT NOT NULL DEFAULT '',
  mover           TEXT NOT NULL DEFAULT '',
  mover_args      TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (step, seq),
  UNIQUE (step, id)
);

CREATE TABLE events (
  id        INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id    INTEGER REFERENCES runs (id),  -- NULL: logged outside a run
  at        TEXT NOT NULL,
  kind      TEXT NOT NULL,
  step      TEXT NOT NULL DEFAULT '',
  action_id TEXT NOT NULL DEFAULT '',
  json      TEXT NOT NULL
);
CREATE INDEX events_by_run ON events (run_id, id);

CREATE TABLE snapshots (
  id       INTEGER PRIMARY KEY AUTOINCREMENT,
  taken_at TEXT NOT NULL,
  kind     TEXT NOT NULL,
  body     TEXT NOT NULL
);
CREATE INDEX snapshots_by_kind ON snapshots (kind, id);
)sql"},
    // The step's canonical inputs themselves, beside their hash (plan_hash), so
    // that drift can name the plan entries that changed. '' in journals written
    // before: their drift keeps naming only the hashes.
    {2, R"sql(
ALTER TABLE steps ADD COLUMN inputs TEXT NOT NULL DEFAULT '';
)sql"},
};

static_assert(std::size(kMigrations) == kSchemaVersion,
              "add one migration per schema version, in order");

void checkForeignKeys(sqlite3* db, const std::string& path, int version) {
  Statement st(db, path, "PRAGMA foreign_key_check");
  if (st.step()) {
    throw Error::stepFailed("journal_error",
                            fmt::format("journal {}: migration to schema version {} left "
                                        "rows in {} without their parent",
                                        path, version, st.text(0)),
                            "report this as a dbsplit bug; the journal was left unchanged");
  }
}

}  // namespace

const Migration& migration(int version) { return kMigrations[version - 1]; }

bool isEmptyDatabase(sqlite3* db, const std::string& path) {
  if (pragmaInt(db, path, "application_id") != 0) return false;
  if (pragmaInt(db, path, "user_version") != 0) return false;
  Statement st(db, path, "SELECT count(*) FROM sqlite_schema");
  return st.step() && st.integer(0) == 0;
}

void migrate(sqlite3* db, const std::string& path) {
  // Why foreign keys are off here: a later migration may rebuild a table (the
  // SQLite way to change a column), which must not cascade into its children.
  // Integrity is checked with foreign_key_check before each commit instead;
  // the caller turns enforcement on afterwards.
  execSql(db, path, "PRAGMA foreign_keys = OFF");
  for (;;) {
    // Each step re-reads the version under the write lock, so two processes
    // opening an old journal at once never apply a migration twice.
    execSql(db, path, "BEGIN IMMEDIATE");
    try {
      auto version = static_cast<int>(pragmaInt(db, path, "user_version"));
      if (version > kSchemaVersion) throw tooNewError(path, version);
      if (version == kSchemaVersion) {
        execSql(db, path, "COMMIT");
        return;
      }
      if (pragmaInt(db, path, "application_id") != kApplicationId) {
        if (!isEmptyDatabase(db, path)) throw corruptError(path, "not a dbsplit journal");
        execSql(db, path, fmt::format("PRAGMA application_id = {}", kApplicationId));
      }
      const Migration& next = migration(version + 1);
      execSql(db, path, next.sql);
      checkForeignKeys(db, path, next.version);
      execSql(db, path, fmt::format("PRAGMA user_version = {}", next.version));
      execSql(db, path, "COMMIT");
    } catch (...) {
      if (!sqlite3_get_autocommit(db)) sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
  }
}

}  // namespace dbsplit::journal::internal
