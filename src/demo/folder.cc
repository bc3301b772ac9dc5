#include "demo/folder.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <vector>

#include "fmt/format.h"
#include "util/error.h"

namespace dbsplit::demo {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void untrusted(const std::string& dir, const std::string& why) {
  throw Error::precondition(
      "demo_dir_untrusted", fmt::format("the demo folder {} is not private: {}", dir, why),
      "the demo writes its plan, hook and sandbox there: give a folder of your own that only "
      "you may write (chmod 700), or leave --dir out for a new private one");
}

[[noreturn]] void systemError(const std::string& path, const std::string& what) {
  throw Error::stepFailed("demo_dir", fmt::format("{} {}: {}", what, path, std::strerror(errno)));
}

// Lets the sandbox's server (`postgres`, when we are root) pass through.
void reachableByServer(const std::string& dir, mode_t mode) {
  if (::geteuid() != 0 || (mode & S_IXOTH)) return;
  if (::chmod(dir.c_str(), (mode & 07777) | S_IXGRP | S_IXOTH) != 0) {
    systemError(dir, "cannot set the mode of");
  }
}

}  // namespace

std::string privateFolder(const std::string& requested) {
  if (requested.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    std::string base = tmp && *tmp ? tmp : "/tmp";
    std::string pattern = base + "/dbsplit-demo-XXXXXX";
    std::vector<char> buf(pattern.begin(), pattern.end());
    buf.push_back('\0');
    if (::mkdtemp(buf.data()) == nullptr) systemError(base, "cannot make a folder in");
    std::string dir = fs::absolute(buf.data()).lexically_normal();
    reachableByServer(dir, 0700);
    return dir;
  }
  std::string dir = fs::absolute(requested).lexically_normal();
  if (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0) {
    if (errno != ENOENT) systemError(dir, "cannot inspect");
    fs::create_directories(fs::path(dir).parent_path());
    if (::mkdir(dir.c_str(), 0700) != 0) systemError(dir, "cannot make");
    if (::lstat(dir.c_str(), &st) != 0) systemError(dir, "cannot inspect");
  }
  const uid_t me = ::geteuid();
  if (S_ISLNK(st.st_mode)) untrusted(dir, "it is a symbolic link");
  if (!S_ISDIR(st.st_mode)) untrusted(dir, "it is not a directory");
  if (st.st_uid != me) {
    untrusted(dir, fmt::format("it belongs to uid {}, not to you (uid {})", st.st_uid, me));
  }
  if (st.st_mode & (S_IWGRP | S_IWOTH)) {
    untrusted(dir, fmt::format("others may write it (mode {:04o})", st.st_mode & 07777));
  }
  reachableByServer(dir, st.st_mode);
  return dir;
}

void writeFileNoFollow(const std::string& path, const std::string& text, unsigned mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
                  static_cast<mode_t>(mode));
  if (fd < 0) systemError(path, "cannot write");
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      int saved = errno;
      ::close(fd);
      errno = saved;
      systemError(path, "cannot write");
    }
    done += static_cast<size_t>(n);
  }
  if (::close(fd) != 0) systemError(path, "cannot write");
}

}  // namespace dbsplit::demo
