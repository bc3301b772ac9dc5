// What /proc shows of the processes on this machine, for tests that watch
// dbsplit's children (a password must never be on a command line).
#pragma once

#include <string>
#include <vector>

namespace dbsplit::test {

// A /proc file read with read(2): a process may vanish while it is read ("" then).
std::string procFile(const std::string& path);

// The command lines of every process now, NULs made spaces.
std::vector<std::string> commandLines();

// Alive and not a zombie (wait() reaps it later).
bool running(int pid);

}  // namespace dbsplit::test
