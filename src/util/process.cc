// fork/exec with one pipe for the child's stdout and stderr. Reading a single
// pipe until EOF cannot deadlock, and the exec error (if any) travels back
// through a second, close-on-exec pipe so "could not run initdb" is precise.
#include "util/process.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "fmt/format.h"
#include "util/error.h"

namespace dbsplit::util {
namespace {

void closeFd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

}  // namespace

namespace {

ProcessResult spawn(const std::vector<std::string>& argv, const std::string& cwd, int err_fd,
                    const Environment& env);

}  // namespace

ProcessResult runProcess(const std::vector<std::string>& argv, const std::string& cwd,
                         const Environment& env) {
  return spawn(argv, cwd, -1, env);
}

ProcessResult runProcessStdout(const std::vector<std::string>& argv, const Environment& env) {
  // stderr goes to an unlinked temporary file: no second pipe to poll, no
  // deadlock however much either stream says.
  char path[] = "/tmp/dbsplit-stderr-XXXXXX";
  int fd = ::mkstemp(path);
  if (fd < 0) {
    throw Error::stepFailed("process_failed", fmt::format("could not create a temporary file: {}",
                                                          std::strerror(errno)));
  }
  ::unlink(path);
  ProcessResult r;
  try {
    r = spawn(argv, {}, fd, env);
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::lseek(fd, 0, SEEK_SET);
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) r.errors.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return r;
}

std::vector<std::string> environmentWith(const Environment& env) {
  std::vector<std::string> out;
  for (char** e = environ; e && *e; ++e) {
    std::string entry = *e;
    if (env.count(entry.substr(0, entry.find('='))) == 0) out.push_back(entry);
  }
  for (const auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

namespace {

ProcessResult spawn(const std::vector<std::string>& argv, const std::string& cwd, int err_fd,
                    const Environment& env) {
  if (argv.empty()) throw Error::stepFailed("internal", "runProcess: empty command");
  // Everything the child needs is built before fork(): after it, only syscalls.
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const std::vector<std::string> entries = environmentWith(env);
  std::vector<char*> envp;
  for (const auto& e : entries) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);

  int out[2];
  int status_pipe[2];
  if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(status_pipe, O_CLOEXEC) != 0) {
    throw Error::stepFailed("process_failed",
                            fmt::format("could not create a pipe: {}", std::strerror(errno)));
  }
  pid_t pid = ::fork();
  if (pid < 0) {
    int err = errno;
    ::close(out[0]);
    ::close(out[1]);
    ::close(status_pipe[0]);
    ::close(status_pipe[1]);
    throw Error::stepFailed("process_failed",
                            fmt::format("could not start {}: {}", argv[0], std::strerror(err)));
  }
  if (pid == 0) {
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, STDIN_FILENO);
    ::dup2(out[1], STDOUT_FILENO);
    ::dup2(err_fd >= 0 ? err_fd : out[1], STDERR_FILENO);
    int err = 0;
    if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) err = errno;
    if (err == 0) {
      ::execvpe(args[0], args.data(), envp.data());
      err = errno;
    }
    ssize_t ignored = ::write(status_pipe[1], &err, sizeof err);
    (void)ignored;
    ::_exit(127);
  }
  ::close(out[1]);
  ::close(status_pipe[1]);

  ProcessResult result;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(out[0], buf, sizeof buf);
    if (n > 0) {
      result.output.append(buf, static_cast<size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  int exec_errno = 0;
  ssize_t got;
  do {
    got = ::read(status_pipe[0], &exec_errno, sizeof exec_errno);
  } while (got < 0 && errno == EINTR);
  closeFd(out[0]);
  closeFd(status_pipe[0]);

  int wstatus = 0;
  while (::waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  if (got == static_cast<ssize_t>(sizeof exec_errno)) {
    throw Error::stepFailed("process_failed",
                            fmt::format("could not run {}{}: {}", argv[0],
                                        cwd.empty() ? std::string() : fmt::format(" in {}", cwd),
                                        std::strerror(exec_errno)),
                            "check that the program is installed and the directory is accessible");
  }
  if (WIFEXITED(wstatus)) {
    result.exit_code = WEXITSTATUS(wstatus);
  } else if (WIFSIGNALED(wstatus)) {
    result.exit_code = 128 + WTERMSIG(wstatus);
  }
  return result;
}

}  // namespace

std::string lastLines(const std::string& text, size_t max_lines) {
  size_t end = text.size();
  while (end > 0 && (text[end - 1] == '\n' || text[end - 1] == '\r')) --end;
  size_t pos = end;
  size_t lines = 0;
  while (pos > 0) {
    if (text[pos - 1] == '\n' && ++lines == max_lines) break;
    --pos;
  }
  return text.substr(pos, end - pos);
}

}  // namespace dbsplit::util
