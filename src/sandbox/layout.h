// Where a sandbox keeps its files and how its settings are written. Private to
// the sandbox module.
//
// <dir>/data                 the cluster (initdb)
// <dir>/server.log           the server's log (pg_ctl -l)
// <dir>/.s.PGSQL.<port>      the Unix socket
// <dir>/sandbox.lock         serializes concurrent start/stop on one sandbox
// <dir>/data/dbsplit_sandbox.conf   our settings, included by postgresql.conf
#pragma once

#include <string>

namespace dbsplit::sandbox {

struct Layout {
  std::string dir;  // absolute, normalized, no trailing slash
  std::string data;
  std::string log;
  std::string conf;  // dbsplit_sandbox.conf
  std::string lock;
};

// REQUIRES: `dir` not empty. Relative directories are taken from the cwd.
Layout layoutFor(const std::string& dir);

// Throws Error (usage) when `dir` holds characters the server's settings or a
// libpq DSN cannot carry safely, or when the socket path would be too long.
void validateDir(const Layout& layout, int port);

struct PidFile {
  int pid = 0;
  int port = 0;
};
// postmaster.pid of a live server; {0,0} when absent, unreadable or stale.
PidFile livePostmaster(const Layout& layout);

// The port in dbsplit_sandbox.conf; 0 when not written yet.
int configuredPort(const Layout& layout);

// Writes dbsplit_sandbox.conf and makes postgresql.conf include it.
void writeSettings(const Layout& layout, int port, bool durable);

// libpq key=value DSN of the superuser over the sandbox's Unix socket.
std::string sandboxDsn(const std::string& dir, int port, const std::string& dbname);

std::string readText(const std::string& path);  // "" when missing

}  // namespace dbsplit::sandbox
