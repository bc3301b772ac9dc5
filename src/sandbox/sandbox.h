// A throwaway local PostgreSQL cluster for tests, demos and rehearsals
// (`dbsplit sandbox start|stop|status`). The cluster lives in one directory:
// data in <dir>/data, the Unix socket in <dir>, the log in <dir>/server.log.
// It preloads pg_stat_statements and runs with wal_level = logical so every
// step can be tried. When the process runs as root, initdb and pg_ctl run as
// the `postgres` OS user (PostgreSQL refuses root) and the directory is given
// to that user.
#pragma once

#include <optional>
#include <string>

namespace dbsplit::sandbox {

struct Options {
  std::string dir;  // absolute or relative; created when missing
  int port = 54329;
  std::string bindir;  // empty = find it (DBSPLIT_PG_BINDIR, pg_config --bindir,
                       // /usr/lib/postgresql/<newest>/bin, PATH)
  // false (--no-fsync): fsync, synchronous_commit and full_page_writes off and
  // initdb --no-sync. Much faster; a machine crash can corrupt the cluster, so
  // only for tests and demos.
  bool durable = true;
  // Also run PgBouncer (transaction pooling) on this port; 0: none.
  int pgbouncer_port = 0;
};

struct Status {
  bool initialized = false;  // <dir>/data holds a cluster
  bool running = false;
  int pid = 0;
  int port = 0;
  std::string dir;  // absolute
  std::string dsn;  // key=value DSN of the superuser `postgres`, database postgres
  std::string log_file;
  int pgbouncer_port = 0;         // 0 when no PgBouncer runs for it
  std::string pgbouncer_dsn;      // through PgBouncer, database postgres
  std::string pgbouncer_console;  // its admin console (database pgbouncer)
  // Its configuration file: [databases] holds `*` (every database of the
  // sandbox); entries added there take effect with RELOAD on the console.
  std::string pgbouncer_ini;
};

// Where the PostgreSQL server binaries are. Throws Error(kPrecondition,
// "postgres_missing") naming the Debian package (postgresql-15) when not found.
std::string findBindir(const std::string& preferred = {});

// Starts the cluster (initdb first when needed). On an already running sandbox
// it returns its status with `already_running` set and changes nothing.
Status start(const Options& options, bool* already_running = nullptr);
// Stops it (fast shutdown). Stopping a stopped sandbox is not an error.
Status stop(const Options& options);
Status status(const Options& options);

}  // namespace dbsplit::sandbox
