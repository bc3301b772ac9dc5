#include "support/proc.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

namespace dbsplit::test {

std::string procFile(const std::string& path) {
  std::string out;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return out;
}

std::vector<std::string> commandLines() {
  std::vector<std::string> out;
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return out;
  while (dirent* e = ::readdir(proc)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    std::string line = procFile(std::string("/proc/") + e->d_name + "/cmdline");
    for (char& c : line) c = c == '\0' ? ' ' : c;
    if (!line.empty()) out.push_back(line);
  }
  ::closedir(proc);
  return out;
}

bool running(int pid) {
  std::string stat = procFile("/proc/" + std::to_string(pid) + "/stat");
  auto paren = stat.rfind(')');
  return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] != 'Z';
}

}  // namespace dbsplit::test
