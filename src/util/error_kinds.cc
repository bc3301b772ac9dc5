#include "util/error_kinds.h"

#include <algorithm>
#include <cstdlib>

namespace dbsplit {
namespace {

// One kind a line: name, exit code (docs/exit-codes.md), meaning. Kept as text
// so the table reads like the page it is copied to; in name order.
constexpr std::string_view kTable = R"(
backfill_failed 1 a projection's snapshot copy failed (copy, snapshot or key); the ranges already committed are kept and `resume` continues after them
backfill_incomplete 1 the relay was asked to start before every projection of the consumer was backfilled
bad_dsn 2 a connection string (--dsn, a [[service]] database, a hook DSN) does not parse as a libpq URI or key=value string
bad_duration 2 a duration flag or plan key is not a number with a unit (500ms, 30s, 15m, 12h, 7d)
bad_snapshot 1 the server returned text that is not a pg_snapshot (relay, compare)
catalogue_log_format 2 a `log:` source is not a PostgreSQL csvlog, jsonlog or stderr log in a known line format
catalogue_no_input 2 the catalogue was given no source it could read
catalogue_no_snapshot 3 `catalogue --since` found no stored snapshot to compare with
catalogue_since_invalid 2 `catalogue --since` is neither a snapshot id nor a duration
catalogue_source_invalid 2 a `--source` is not pg_stat_statements, log:PATH[@service] or sql:PATH[@service]
catalogue_source_unreadable 2 a catalogue source file or folder cannot be read
commit_in_doubt 1 the connection broke during COMMIT: the action may or may not have been applied; `resume` decides from the markers
confirmation_needed 5 a destructive or irreversible action needs --yes and there is no terminal to ask on
connection_failed 3 the server cannot be reached or refuses the connection (host, port, password, pg_hba.conf)
connection_lost 1 the connection to the server broke while a statement ran
consumer_database_unreachable 3 a consumer's own [[service]] database cannot be connected to or created
copy_stopped 1 split's initial copy stopped because the run did (its lock was lost, or another copy connection failed); `resume` starts the copy over
cutover_not_converged 1 after the fence the new database did not reach the source's rows (counts and hashes) within the bound; the source is unfenced
database_taken 3 the service's new database exists and was not created by this migration (no dbsplit mark on it): it is never resumed into or dropped
demo_dir 1 the demo could not make, inspect or write its working folder or a file in it
demo_dir_untrusted 3 the demo's --dir is a symbolic link, not a directory, not yours, or writable by others: it would write its plan and hook there
demo_drop_event 1 the demo could not remove the event it drops on purpose to show compare finding it
demo_failed_transactions 1 an application transaction of the demo's services failed while dbsplit ran a step
demo_log 1 the demo could not open the log file of one of its child processes
demo_lost_writes 1 the demo's nothing-lost check found committed writes missing or misplaced
demo_pgbouncer_config 1 `demo --split database --pgbouncer`: the sandbox's PgBouncer configuration has no [databases] section to add the services' pools to
demo_pgbouncer_server 2 `demo --pgbouncer` with `--server`: PgBouncer runs only beside the demo's own sandbox
demo_split_mode 2 `demo --split` is neither schema nor database
gate_failed 3 one or more of a step's gates are not met; the details list each one and nothing changed
inflight_writers 1 transactions of the owner's roles begun before the cutover fence stayed open past the bound
internal 1 an unexpected failure inside dbsplit (a bug); the journal says what ran
irreversible 3 a rollback would have to undo an action that has no inverse
journal_bad_pragma 2 an internal PRAGMA name is not a plain identifier
journal_corrupt 6 the journal holds values this build does not understand: damaged, or written by another build
journal_dir_missing 2 the journal's directory does not exist
journal_error 1 SQLite failed to read or write the journal (disk full, permissions, I/O)
journal_locked 4 another process holds the journal file's lock
journal_mismatch 6 the journal belongs to another migration than the plan names
journal_missing 3 a read-only command found no journal: nothing was recorded yet
journal_read_only 1 a read-only command tried to write the journal (a bug)
journal_tampered 6 the journal's actions differ from what the database's markers (dbsplit.applied) recorded when they ran: nothing of the journal was run
journal_too_new 6 the journal was written by a newer dbsplit (a higher schema version)
journal_untrusted 3 the journal (or its directory) is not owned by you or others may write it: resume and rollback run the SQL it holds
later_step_applied 3 a rollback was asked for a step while a later step is still applied
lock_timeout 1 an action could not take its lock within lock_timeout after every retry; its transaction rolled back
no_events 2 the command needs [[event]] entries and the plan has none
no_projections 2 the command needs [[projection]] entries and the plan has none
no_usable_key 3 compare cannot order a table by its key (a key type with no ordering)
not_confirmed 5 the user answered no at the confirmation prompt; nothing changed
on_cutover_failed 1 the on_cutover hook exited non-zero; the cutover is not marked
outbox_not_ready 3 the database does not meet the outbox step's needs (owners, tables, keys); nothing changed
outbox_plan_invalid 2 the plan's [[event]] entries do not match the database (columns, keys); nothing changed
outbox_table_taken 3 an outbox table exists that dbsplit did not create
ownership_acl 3 the ownership step would leave privileges it cannot restore exactly; nothing changed
ownership_roles 3 roles the ownership step needs are missing or wrong (service roles, group role names); nothing changed
ownership_waiver 3 a [[waiver]] lists columns its table does not have; nothing changed
pg_dump_failed 1 pg_dump failed while dbsplit took a schema dump
pg_error 1 a PostgreSQL driver failure that is neither SQL nor connection related (or a value that does not convert)
pg_stat_statements_missing 3 pg_stat_statements is not installed in the database the catalogue reads
pgbouncer_console 3 [step.split] pgbouncer does not reach PgBouncer's admin console (database `pgbouncer`, as one of its admin_users)
pgbouncer_missing 3 `sandbox start --pgbouncer`: PgBouncer is not installed (Debian package pgbouncer)
pgbouncer_pause_timeout 1 database-mode cutover: a PgBouncer pool still had busy server connections when its PAUSE bound ran out; the pool is resumed and the run rolled back
pgbouncer_pool_missing 3 a service's `pgbouncer_pool` is not a database of PgBouncer (SHOW DATABASES)
pgbouncer_start_failed 1 `sandbox start --pgbouncer`: PgBouncer did not start (its log is named)
plan_drift 6 the plan changed under applied steps (its hash differs from the journal's)
plan_invalid 2 the plan has problems; each is listed as file:line:column with a suggestion
plan_unreadable 2 the plan file cannot be read
port_in_use 3 the sandbox's port is taken by another program
postgres_missing 3 the PostgreSQL server binaries (initdb, pg_ctl) are not installed
postgres_user_missing 3 running as root without a `postgres` OS user to run the sandbox as
preflight_failed 3 `dbsplit check` found failing checks
process_failed 1 a child process (pg_dump, psql, a hook, the demo's services) could not start or failed
projection_columns_changed 3 a projection table no longer has the plan's columns
projection_missing 3 a projection table to compare does not exist
projection_table_taken 3 a projection table exists that dbsplit did not create
projections_not_ready 3 the database does not meet the projections step's needs (outbox, keys); nothing changed
projections_plan_invalid 2 the plan's [[projection]] entries do not match the database; nothing changed
read_only_server 3 the server is a standby or read-only; nothing changed
rebuilt_view_invalid 2 a [[view]] rebuild's query is not one SELECT over its consumer's own schema; nothing changed
relay_bad_event 1 an outbox event cannot be applied to its projection; the batch was not applied
relay_batch_changed 1 an outbox batch changed between two reads (edited by hand?)
relay_cursor_moved 1 a consumer's cursor moved under the relay (another writer)
relay_follow_lost 3 a cursor follows an owner's database whose cutover was rolled back
relay_lag 1 the relay's lag could not be measured
relay_lock_held 4 another relay of the same consumer is running
relay_not_drained 1 an owner's source outbox went away before the relay applied all of its events
relay_not_started 3 a consumer has no relay cursor yet (run projections first)
report_write 1 the HTML report could not be written
run_lock_held 4 another dbsplit run of the same migration holds the run lock
run_lock_lost 1 the connection holding the run lock broke during a run
runuser_missing 3 running as root without runuser(1) to start the sandbox as postgres
sandbox_chown_failed 3 the sandbox folder cannot be given to the postgres OS user
sandbox_config_failed 1 the sandbox's configuration files cannot be written
sandbox_dir_failed 3 the sandbox folder cannot be created
sandbox_dir_invalid 2 the sandbox folder's path has characters PostgreSQL cannot take (comma, quote, control)
sandbox_dir_not_empty 2 the sandbox folder is not empty and holds no sandbox
sandbox_dir_too_long 2 the sandbox's Unix socket path is over the system limit
sandbox_dir_unreachable 3 the postgres OS user cannot reach the sandbox folder
sandbox_extension_failed 1 pg_stat_statements could not be created in the sandbox
sandbox_initdb_failed 1 initdb failed while creating the sandbox cluster
sandbox_lock_failed 1 the sandbox folder's lock file cannot be taken
sandbox_port_invalid 2 the sandbox's --port is not in 1..65535
sandbox_start_failed 1 pg_ctl start failed; the server log's last lines are shown
sandbox_stop_failed 1 pg_ctl stop failed; the server log's last lines are shown
sandbox_user_check_failed 3 dbsplit could not check whether the postgres user reaches the sandbox folder
sandbox_version_mismatch 3 the sandbox was made by another PostgreSQL major version than the binaries found
schema_copy_failed 1 copying the service's schema into its new database failed (pg_dump or pg_restore)
snapshot_corrupt 6 a catalogue snapshot in the journal is damaged
source_columns_missing 3 a projection's source table lacks columns the plan names
source_missing 3 a projection's source table does not exist
split_tables 3 tables to move have problems (missing, already moved, name taken); nothing changed
sql_error 1 PostgreSQL rejected a statement; the SQLSTATE is given
state_drift 6 the journal and the database disagree about an applied step's objects
step_interrupted 3 the step was interrupted: `resume` or `rollback` it first
step_order 3 the step needs an earlier step applied first
store_needs_plan 2 `catalogue --store` needs a plan (its journal holds the snapshot)
subscription_not_running 1 the split's subscription has had no apply worker streaming from its slot for 60 s
table_missing 3 [[table]] entries name tables the database does not have; nothing changed
unknown_consumer 2 --consumer names no consumer of a [[projection]]
unknown_database 2 an action runs on a service database the plan does not name
unknown_mover 1 the journal names a data mover this build does not have
unknown_playbook 2 `demo --playbook` names no playbook
unknown_projection 1 a journaled backfill names a projection the plan no longer has
unknown_step 2 the command names no step (with the closest name)
unknown_table 2 `compare --table` names no projection
usage 2 bad command-line flags or arguments
verify_failed 1 an action ran but its verify query finds the effect missing
walk_json 2 `walk` is interactive and takes no --json
walk_no_tty 2 `walk` needs a terminal
)";

std::vector<ErrorKind> parseTable() {
  std::vector<ErrorKind> kinds;
  std::string_view rest = kTable;
  while (!rest.empty()) {
    auto eol = rest.find('\n');
    std::string_view line = rest.substr(0, eol);
    rest = eol == std::string_view::npos ? std::string_view{} : rest.substr(eol + 1);
    if (line.empty()) continue;
    auto a = line.find(' '), b = line.find(' ', a + 1);
    kinds.push_back(
        {line.substr(0, a),
         static_cast<ExitCode>(std::atoi(std::string(line.substr(a + 1, b - a - 1)).c_str())),
         line.substr(b + 1)});
  }
  return kinds;
}

}  // namespace

const std::vector<ErrorKind>& errorKinds() {
  static const std::vector<ErrorKind> kinds = parseTable();
  return kinds;
}

const ErrorKind* findErrorKind(std::string_view name) {
  const auto& kinds = errorKinds();
  auto it = std::lower_bound(kinds.begin(), kinds.end(), name,
                             [](const ErrorKind& k, std::string_view n) { return k.name < n; });
  return it != kinds.end() && it->name == name ? &*it : nullptr;
}

}  // namespace dbsplit
