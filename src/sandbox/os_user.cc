// Root handling for the sandbox: find the postgres user, hand it the
// directory, and prove up front that it can reach the directory, because
// otherwise initdb fails later with a message that does not say which parent
// directory is the problem.
#include "sandbox/os_user.h"

#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <pwd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "fmt/format.h"
#include "util/error.h"

namespace dbsplit::sandbox {
namespace {

namespace fs = std::filesystem;

// nftw offers no user data pointer; chownTree sets these before the walk.
uid_t g_chown_uid = 0;
gid_t g_chown_gid = 0;

int chownEntry(const char* path, const struct stat*, int, struct FTW*) {
  return ::lchown(path, g_chown_uid, g_chown_gid) == 0 ? 0 : -1;
}

std::string findRunuser() {
  for (const char* p : {"/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser", "/bin/runuser"}) {
    if (::access(p, X_OK) == 0) return p;
  }
  return {};
}

}  // namespace

ServerUser serverUser() {
  ServerUser user;
  if (::geteuid() != 0) {
    user.uid = ::geteuid();
    user.gid = ::getegid();
    return user;
  }
  struct passwd* pw = ::getpwnam("postgres");
  if (pw == nullptr) {
    throw Error::precondition(
        "postgres_user_missing",
        "running as root, but there is no `postgres` OS user to run the sandbox cluster "
        "(PostgreSQL refuses to run as root)",
        "install the server package, which creates the user: apt-get install postgresql-15; "
        "or run dbsplit as a non-root user");
  }
  user.switch_user = true;
  user.name = pw->pw_name;
  user.uid = pw->pw_uid;
  user.gid = pw->pw_gid;
  int n = 64;
  user.groups.resize(static_cast<size_t>(n));
  while (::getgrouplist(user.name.c_str(), user.gid, user.groups.data(), &n) < 0) {
    user.groups.resize(static_cast<size_t>(n) + 16);
    n = static_cast<int>(user.groups.size());
  }
  user.groups.resize(static_cast<size_t>(n));
  user.runuser = findRunuser();
  if (user.runuser.empty()) {
    throw Error::precondition("runuser_missing",
                              "running as root, but runuser(1) was not found to start the "
                              "sandbox cluster as the postgres user",
                              "install util-linux, or run dbsplit as the postgres user");
  }
  return user;
}

std::vector<std::string> asServerUser(const ServerUser& user, std::vector<std::string> argv) {
  if (!user.switch_user) return argv;
  std::vector<std::string> full = {user.runuser, "-u", user.name, "--"};
  full.insert(full.end(), argv.begin(), argv.end());
  return full;
}

void giveTo(const ServerUser& user, const std::string& path, bool recursive) {
  if (!user.switch_user) return;
  int rc;
  if (recursive) {
    g_chown_uid = user.uid;
    g_chown_gid = user.gid;
    rc = ::nftw(path.c_str(), chownEntry, 32, FTW_PHYS);
  } else {
    rc = ::lchown(path.c_str(), user.uid, user.gid);
  }
  if (rc != 0) {
    throw Error::precondition(
        "sandbox_chown_failed",
        fmt::format("could not give {} to the {} user: {}", path, user.name, std::strerror(errno)),
        "use a directory on a local file system that root may chown, or run as the postgres user");
  }
}

void checkTraversable(const ServerUser& user, const std::string& dir) {
  if (!user.switch_user) return;
  std::vector<std::string> chain;
  fs::path p(dir);
  for (fs::path cur = p; !cur.empty(); cur = cur.parent_path()) {
    chain.insert(chain.begin(), cur.string());
    if (cur == cur.parent_path()) break;
  }
  // access(2) as the postgres user is the only honest test: it sees ACLs,
  // supplementary groups and mount options. A forked child drops to that user.
  int result_pipe[2];
  if (::pipe2(result_pipe, O_CLOEXEC) != 0) {
    throw Error::stepFailed("process_failed", "could not create a pipe");
  }
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(result_pipe[0]);
    ::close(result_pipe[1]);
    throw Error::stepFailed("process_failed", "could not fork");
  }
  if (pid == 0) {
    int blocked = -1;
    if (::setgroups(user.groups.size(), user.groups.data()) != 0 || ::setgid(user.gid) != 0 ||
        ::setuid(user.uid) != 0) {
      blocked = -2;
    } else {
      for (size_t i = 0; i < chain.size(); ++i) {
        if (::access(chain[i].c_str(), X_OK) != 0) {
          // Not there yet: the part that exists is fine, the rest is ours to make.
          if (errno != ENOENT) blocked = static_cast<int>(i);
          break;
        }
      }
    }
    ssize_t ignored = ::write(result_pipe[1], &blocked, sizeof blocked);
    (void)ignored;
    ::_exit(0);
  }
  ::close(result_pipe[1]);
  int blocked = -2;
  ssize_t got;
  do {
    got = ::read(result_pipe[0], &blocked, sizeof blocked);
  } while (got < 0 && errno == EINTR);
  ::close(result_pipe[0]);
  int wstatus = 0;
  while (::waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  if (got != static_cast<ssize_t>(sizeof blocked) || blocked == -2) {
    throw Error::precondition(
        "sandbox_user_check_failed",
        fmt::format("could not check whether the {} user can reach {}", user.name, dir),
        "run dbsplit as the postgres user instead of root");
  }
  if (blocked >= 0) {
    const std::string& where = chain[static_cast<size_t>(blocked)];
    throw Error::precondition(
        "sandbox_dir_unreachable",
        fmt::format("the {} OS user, which runs the sandbox cluster, cannot enter {} "
                    "(on the way to {})",
                    user.name, where, dir),
        fmt::format("pick a --dir that {0} can reach (e.g. under /tmp or /var/tmp), or let it "
                    "through: chmod o+x {1}",
                    user.name, where));
  }
}

}  // namespace dbsplit::sandbox
