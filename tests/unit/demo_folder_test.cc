// The demo's working folder is private and its files are never written
// through a symbolic link (demo/folder.h): another local user must not make
// root write through a link planted in a shared folder.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "catch2/catch.hpp"
#include "demo/folder.h"
#include "unit/journal_fixture.h"
#include "util/error.h"

namespace dbsplit::demo {
namespace {

namespace fs = std::filesystem;
using journal::test::errorFrom;
using journal::test::fileMode;
using journal::test::TempDir;

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void requireRefused(const std::string& dir, const std::string& why) {
  Error e = errorFrom([&] { privateFolder(dir); });
  CHECK(e.kind() == "demo_dir_untrusted");
  CHECK(toInt(e.code()) == 3);
  CHECK(std::string(e.what()).find(why) != std::string::npos);
}

}  // namespace

TEST_CASE("the demo refuses a folder that is a symbolic link, not its own or writable by others",
          "[demo][security]") {
  TempDir t;
  const std::string victim = t.file("victim");
  fs::create_directory(victim);
  fs::create_directory_symlink(victim, t.file("planted"));
  requireRefused(t.file("planted"), "symbolic link");
  CHECK(fs::is_empty(victim));

  fs::create_directory(t.file("shared"));
  ::chmod(t.file("shared").c_str(), 0777);
  requireRefused(t.file("shared"), "others may write");
  fs::create_directory(t.file("group"));
  ::chmod(t.file("group").c_str(), 0770);
  requireRefused(t.file("group"), "others may write");

  std::ofstream(t.file("plain")) << "x";
  requireRefused(t.file("plain"), "not a directory");

  if (::geteuid() == 0) {
    fs::create_directory(t.file("theirs"));
    ::chmod(t.file("theirs").c_str(), 0700);
    REQUIRE(::chown(t.file("theirs").c_str(), 65534, 65534) == 0);
    requireRefused(t.file("theirs"), "belongs to uid 65534");
  } else {
    WARN("not root: a folder of another user cannot be made here");
  }
}

TEST_CASE("the demo makes a missing folder private and by default a new one under TMPDIR",
          "[demo][security]") {
  TempDir t;
  const std::string made = privateFolder(t.file("new/demo"));
  CHECK(made == t.file("new/demo"));
  CHECK((fileMode(made) & 022) == 0);
  // Its own folder, made again: accepted.
  CHECK(privateFolder(made) == made);

  const char* old = std::getenv("TMPDIR");
  const std::string saved = old ? old : "";
  ::setenv("TMPDIR", t.path().c_str(), 1);
  // The old fixed name, planted: never used.
  fs::create_directory_symlink(t.file("new"), t.file("dbsplit-demo"));
  const std::string fresh = privateFolder("");
  if (old) {
    ::setenv("TMPDIR", saved.c_str(), 1);
  } else {
    ::unsetenv("TMPDIR");
  }
  CHECK(fs::path(fresh).parent_path() == fs::path(t.path()));
  CHECK(fs::path(fresh).filename().string().rfind("dbsplit-demo-", 0) == 0);
  CHECK(fs::is_directory(fs::symlink_status(fresh)));
  CHECK((fileMode(fresh) & 0777) == (::geteuid() == 0 ? 0711u : 0700u));
}

TEST_CASE("the demo never writes a file through a symbolic link", "[demo][security]") {
  TempDir t;
  const std::string victim = t.file("victim");
  std::ofstream(victim) << "precious";
  ::symlink(victim.c_str(), t.file("dbsplit.toml").c_str());
  Error e = errorFrom([&] { writeFileNoFollow(t.file("dbsplit.toml"), "plan"); });
  CHECK(e.kind() == "demo_dir");
  CHECK(slurp(victim) == "precious");

  writeFileNoFollow(t.file("plan.toml"), "password=x");
  CHECK(slurp(t.file("plan.toml")) == "password=x");
  CHECK(fileMode(t.file("plan.toml")) == 0600);
  writeFileNoFollow(t.file("hook.sh"), "#!/bin/sh\n", 0700);
  CHECK((fileMode(t.file("hook.sh")) & 0100) != 0);
}

}  // namespace dbsplit::demo
