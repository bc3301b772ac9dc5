// PgBouncer beside a sandbox (Options::pgbouncer_port): Debian's pgbouncer in
// transaction pooling, listening only on a Unix socket in the sandbox folder
// (mode 0700, like the server's), every database of the sandbox behind it,
// `postgres` on its admin console. Private to the sandbox module.
//
// <dir>/pgbouncer/pgbouncer.ini, userlist.txt, pgbouncer.log, pgbouncer.pid
// <dir>/.s.PGSQL.<pgbouncer port>
#pragma once

#include "sandbox/layout.h"
#include "sandbox/os_user.h"

namespace dbsplit::sandbox {

// Its configuration file.
std::string pgbouncerIni(const Layout& layout);

// The port of the PgBouncer running for this sandbox; 0 when none runs.
int livePgbouncer(const Layout& layout);

// Starts PgBouncer in front of the server on `server_port` (a running one is
// left alone). Throws Error(kPrecondition, "pgbouncer_missing") naming the
// Debian package when the binary is not installed.
void startPgbouncer(const Layout& layout, const ServerUser& user, int server_port, int port);

// Stops it (SIGTERM, then waits for the socket to go). No-op when none runs.
void stopPgbouncer(const Layout& layout);

}  // namespace dbsplit::sandbox
