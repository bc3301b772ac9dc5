// Runs external programs (initdb, pg_ctl, psql, pg_dump) as child processes
// with fork/exec: arguments are passed as a vector, never through a shell, so
// a directory or database name cannot inject anything.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace dbsplit::util {

struct ProcessResult {
  int exit_code = -1;  // 128 + signal when the child was killed
  std::string output;  // stdout and stderr, interleaved as written (stdout only
                       // from runProcessStdout)
  std::string errors;  // stderr, from runProcessStdout only
};

// Variables laid over this process's environment for a child. Secrets (a
// password) go here, never into argv: every local user can read a command
// line (ps, /proc/PID/cmdline), only the same user a process's environment.
using Environment = std::map<std::string, std::string>;

// This process's environment with `env` laid over it ("KEY=value" entries),
// for a caller that execs by itself: build it before fork().
std::vector<std::string> environmentWith(const Environment& env);

// Runs argv[0] (searched in PATH when it holds no '/') with stdin from
// /dev/null, in `cwd` when not empty, and waits for it. Throws dbsplit::Error
// when the program cannot be started at all.
ProcessResult runProcess(const std::vector<std::string>& argv, const std::string& cwd = {},
                         const Environment& env = {});

// The same, keeping stdout (`output`) apart from stderr (`errors`), for programs
// whose output is data (pg_dump).
ProcessResult runProcessStdout(const std::vector<std::string>& argv, const Environment& env = {});

// The last `max_lines` lines of `text`, for error messages.
std::string lastLines(const std::string& text, size_t max_lines);

}  // namespace dbsplit::util
