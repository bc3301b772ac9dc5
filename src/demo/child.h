// Runs the real dbsplit binary (/proc/self/exe) as a child process, the way a
// DBA would type each command: the demo and its walk prove the commands, not
// in-process shortcuts. Children get --json, and their JSON Lines are parsed.
#pragma once

#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "util/process.h"

namespace dbsplit::demo {

struct ChildResult {
  int exit_code = -1;
  std::vector<nlohmann::json> events;  // every JSON line of stdout
  std::string errors;                  // stderr
  nlohmann::json result;               // the final {"event":"result"} (or null)

  // Every event whose "event" is `name`, in order.
  std::vector<nlohmann::json> named(const std::string& name) const;
  // The message of the last {"event":"error"}, or the last stderr line.
  std::string errorMessage() const;
};

// The dbsplit binary this process runs from.
std::string selfExe();

// Runs `dbsplit <args> --json --no-progress` and waits for it, with `env`
// laid over this process's environment (a password: never in `args`).
ChildResult runDbsplit(const std::vector<std::string>& args, const util::Environment& env = {});

// A long-running dbsplit command (the relay) in the background, stdout and
// stderr appended to `log_file`. stop() sends SIGTERM (a clean stop) and waits.
class BackgroundDbsplit {
 public:
  BackgroundDbsplit(const std::vector<std::string>& args, const std::string& log_file,
                    const util::Environment& env = {});
  ~BackgroundDbsplit();
  BackgroundDbsplit(const BackgroundDbsplit&) = delete;
  BackgroundDbsplit& operator=(const BackgroundDbsplit&) = delete;

  bool running();
  int stop();  // exit code (128 + signal when it died of one)
  int pid() const { return pid_; }

 private:
  int pid_ = -1;
  int exit_code_ = -1;
};

}  // namespace dbsplit::demo
