// Who runs the server. PostgreSQL refuses to run as root, so when dbsplit runs
// as root the cluster belongs to the `postgres` OS user: its directory is given
// to that user and every server tool runs through `runuser -u postgres --`.
// Private to the sandbox module.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace dbsplit::sandbox {

struct ServerUser {
  bool switch_user = false;  // true when running as root
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;
  std::string runuser;  // path of runuser(1) when switch_user
};

// The current user, or `postgres` when running as root. Throws Error
// (precondition) when root and there is no `postgres` user or no runuser.
ServerUser serverUser();

// `argv` as the server user runs it (prefixed with runuser when needed).
std::vector<std::string> asServerUser(const ServerUser& user, std::vector<std::string> argv);

// Gives `path` (and, when `recursive`, everything below it) to the server user.
// No-op unless switch_user.
void giveTo(const ServerUser& user, const std::string& path, bool recursive);

// REQUIRES: `dir` is absolute.
// Throws Error (precondition) naming the first directory on the way to `dir`
// that the server user cannot enter; components that do not exist yet are not
// checked. No-op unless switch_user.
void checkTraversable(const ServerUser& user, const std::string& dir);

}  // namespace dbsplit::sandbox
