#include "demo/child.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <climits>
#include <cstring>
#include <sstream>
#include <thread>

#include "fmt/format.h"
#include "util/error.h"
#include "util/process.h"

namespace dbsplit::demo {

std::vector<nlohmann::json> ChildResult::named(const std::string& name) const {
  std::vector<nlohmann::json> out;
  for (const auto& e : events) {
    if (e.value("event", "") == name) out.push_back(e);
  }
  return out;
}

std::string ChildResult::errorMessage() const {
  for (auto it = events.rbegin(); it != events.rend(); ++it) {
    if (it->value("event", "") == "error") {
      std::string m = it->value("message", "");
      if (it->contains("hint") && (*it)["hint"].is_string()) {
        m += " (" + (*it)["hint"].get<std::string>() + ")";
      }
      return m;
    }
  }
  std::string last = util::lastLines(errors, 1);
  return last.empty() ? fmt::format("exit code {}", exit_code) : last;
}

std::string selfExe() {
  char buf[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "/proc/self/exe";
  return std::string(buf, static_cast<size_t>(n));
}

ChildResult runDbsplit(const std::vector<std::string>& args, const util::Environment& env) {
  std::vector<std::string> argv = {selfExe()};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back("--json");
  argv.push_back("--no-progress");
  util::ProcessResult p = util::runProcessStdout(argv, env);
  ChildResult r;
  r.exit_code = p.exit_code;
  r.errors = p.errors;
  std::istringstream lines(p.output);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] != '{') continue;
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded()) continue;
    if (j.value("event", "") == "result") r.result = j;
    r.events.push_back(std::move(j));
  }
  return r;
}

BackgroundDbsplit::BackgroundDbsplit(const std::vector<std::string>& args,
                                     const std::string& log_file, const util::Environment& env) {
  std::vector<std::string> argv = {selfExe()};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back("--json");
  argv.push_back("--no-progress");
  std::vector<char*> cargs;
  for (auto& a : argv) cargs.push_back(a.data());
  cargs.push_back(nullptr);
  // Built before fork(): the demo's services run in threads.
  const std::vector<std::string> entries = util::environmentWith(env);
  std::vector<char*> envp;
  for (const auto& e : entries) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  int log = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (log < 0) {
    throw Error::stepFailed("demo_log",
                            fmt::format("could not open {}: {}", log_file, std::strerror(errno)));
  }
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(log);
    throw Error::stepFailed("process_failed",
                            fmt::format("could not start dbsplit: {}", std::strerror(errno)));
  }
  if (pid == 0) {
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, STDIN_FILENO);
    ::dup2(log, STDOUT_FILENO);
    ::dup2(log, STDERR_FILENO);
    ::execve(cargs[0], cargs.data(), envp.data());
    ::_exit(127);
  }
  ::close(log);
  pid_ = pid;
}

BackgroundDbsplit::~BackgroundDbsplit() {
  if (pid_ > 0) stop();
}

bool BackgroundDbsplit::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  pid_t got = ::waitpid(pid_, &status, WNOHANG);
  if (got == pid_) {
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    pid_ = -1;
    return false;
  }
  return true;
}

int BackgroundDbsplit::stop() {
  if (!running()) return exit_code_;
  ::kill(pid_, SIGTERM);
  // A clean stop finishes the batch in flight; after 30 s it is killed.
  for (int i = 0; i < 300 && running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    exit_code_ = 128 + SIGKILL;
    pid_ = -1;
  }
  return exit_code_;
}

}  // namespace dbsplit::demo
