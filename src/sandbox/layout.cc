// Files of a sandbox: paths, the postmaster.pid, and the settings file.
#include "sandbox/layout.h"

#include <signal.h>
#include <sys/un.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "fmt/format.h"
#include "pg/conninfo.h"
#include "util/error.h"

namespace dbsplit::sandbox {
namespace {

namespace fs = std::filesystem;

// A value for postgresql.conf: single-quoted, with ' and \ escaped as the
// configuration lexer expects.
std::string confString(const std::string& value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'' || c == '\\') out += c;
    out += c;
  }
  return out + "'";
}

bool isPostgresProcess(int pid) {
  if (::kill(pid, 0) != 0 && errno != EPERM) return false;
  // A stale postmaster.pid may name a pid reused by something else.
  std::ifstream comm(fmt::format("/proc/{}/comm", pid));
  std::string name;
  if (!std::getline(comm, name)) return true;  // no /proc: trust kill()
  return name.rfind("postgres", 0) == 0 || name.rfind("postmaster", 0) == 0;
}

}  // namespace

Layout layoutFor(const std::string& dir) {
  fs::path p = fs::absolute(fs::path(dir)).lexically_normal();
  std::string s = p.string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  Layout l;
  l.dir = s;
  l.data = s + "/data";
  l.log = s + "/server.log";
  l.conf = l.data + "/dbsplit_sandbox.conf";
  l.lock = s + "/sandbox.lock";
  return l;
}

void validateDir(const Layout& layout, int port) {
  for (char c : layout.dir) {
    // unix_socket_directories is a comma-separated list and may use double
    // quotes; control characters would break the settings file.
    if (c == ',' || c == '"' || static_cast<unsigned char>(c) < 0x20) {
      throw Error::usage("sandbox_dir_invalid",
                         fmt::format("the sandbox directory {} contains a comma, a double quote "
                                     "or a control character, which PostgreSQL's "
                                     "unix_socket_directories cannot hold",
                                     layout.dir),
                         "choose a plainer --dir");
    }
  }
  std::string socket = fmt::format("{}/.s.PGSQL.{}", layout.dir, port);
  const size_t limit = sizeof(sockaddr_un::sun_path) - 1;
  if (socket.size() > limit) {
    throw Error::usage(
        "sandbox_dir_too_long",
        fmt::format("the sandbox's Unix socket path {} is {} bytes; the system limit is {}", socket,
                    socket.size(), limit),
        "choose a shorter --dir, e.g. under /tmp");
  }
}

PidFile livePostmaster(const Layout& layout) {
  std::ifstream in(layout.data + "/postmaster.pid");
  PidFile pf;
  std::string line;
  // Line 1 is the pid, line 4 the port (see PostgreSQL's pidfile.h).
  for (int n = 1; n <= 4 && std::getline(in, line); ++n) {
    try {
      if (n == 1) pf.pid = std::stoi(line);
      if (n == 4) pf.port = std::stoi(line);
    } catch (const std::exception&) {
      return {};  // half-written while the server starts
    }
  }
  if (pf.pid <= 0 || !isPostgresProcess(pf.pid)) return {};
  return pf;
}

int configuredPort(const Layout& layout) {
  std::ifstream in(layout.conf);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("port = ", 0) == 0) {
      try {
        return std::stoi(line.substr(7));
      } catch (const std::exception&) {
        return 0;
      }
    }
  }
  return 0;
}

void writeSettings(const Layout& layout, int port, bool durable) {
  std::ostringstream conf;
  conf << "# Written by `dbsplit sandbox start` on every start; edits here are lost.\n"
       << "port = " << port << "\n"
       << "listen_addresses = '127.0.0.1'\n"
       // Double quotes inside: the directory may contain spaces.
       << "unix_socket_directories = " << confString("\"" + layout.dir + "\"")
       << "\n"
       // Local logins are `trust`: only the server's own OS user (and root)
       // may reach the socket, or any local user would be `postgres`.
       << "unix_socket_permissions = 0700\n"
       << "max_connections = 200\n"
       << "shared_preload_libraries = 'pg_stat_statements'\n"
       << "pg_stat_statements.track = all\n"
       // Room for a whole test suite's statements: a full view evicts entries,
       // and the catalogue would miss them. Not kept across restarts.
       << "pg_stat_statements.max = 20000\n"
       << "pg_stat_statements.save = off\n"
       << "wal_level = logical\n"
       << "max_wal_senders = 20\n"
       << "max_replication_slots = 20\n"
       // A database-mode split runs one apply worker per moving service plus
       // table-sync workers; the default 4 workers stall the fifth service.
       << "max_worker_processes = 32\n"
       << "max_logical_replication_workers = 24\n";
  if (!durable) {
    conf << "# --no-fsync: fast, but a crash of the machine can corrupt this cluster.\n"
         << "fsync = off\n"
         << "synchronous_commit = off\n"
         << "full_page_writes = off\n";
  }
  std::ofstream out(layout.conf, std::ios::trunc);
  out << conf.str();
  out.close();
  if (!out) {
    throw Error::stepFailed("sandbox_config_failed", fmt::format("could not write {}", layout.conf),
                            "check the free space and permissions of the sandbox directory");
  }
  const std::string include_line = "include 'dbsplit_sandbox.conf'";
  const std::string main_conf = layout.data + "/postgresql.conf";
  if (readText(main_conf).find(include_line) != std::string::npos) return;
  std::ofstream append(main_conf, std::ios::app);
  append << "\n# Settings of `dbsplit sandbox`.\n" << include_line << "\n";
  append.close();
  if (!append) {
    throw Error::stepFailed("sandbox_config_failed", fmt::format("could not write {}", main_conf),
                            "check the permissions of the sandbox directory");
  }
}

std::string sandboxDsn(const std::string& dir, int port, const std::string& dbname) {
  return fmt::format("host={} port={} user=postgres dbname={}", pg::quoteConninfoValue(dir), port,
                     pg::quoteConninfoValue(dbname));
}

std::string readText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace dbsplit::sandbox
