// A sandbox lets in only the OS user who started it (and root): its socket is
// mode 0700, so another local user cannot log in as `postgres` over the trust
// login and run commands through COPY ... TO PROGRAM (docs/sandbox.md).
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "catch2/catch.hpp"
#include "sandbox/sandbox.h"
#include "support/pg_test.h"
#include "util/process.h"

namespace dbsplit::test {

TEST_CASE("another OS user cannot connect to a sandbox", "[sandbox][security][pg]") {
  const std::string socket = sandboxDir() + "/.s.PGSQL." + std::to_string(sandboxPort());
  struct stat st {};
  REQUIRE(::stat(socket.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);

  if (::geteuid() != 0) return;  // switching users needs root; the mode above is the guard
  const std::string psql = sandbox::findBindir() + "/psql";
  util::ProcessResult as_nobody = util::runProcess(
      {"runuser", "-u", "nobody", "--", psql, "-X", "-h", sandboxDir(), "-p",
       std::to_string(sandboxPort()), "-U", "postgres", "-d", "postgres", "-c", "SELECT 1"},
      "/");
  INFO(as_nobody.output);
  CHECK(as_nobody.exit_code != 0);
  CHECK_THAT(as_nobody.output, Catch::Contains("Permission denied"));

  // The same command as the sandbox's owner works: the refusal is about who asks.
  util::ProcessResult as_owner =
      util::runProcess({psql, "-X", "-h", sandboxDir(), "-p", std::to_string(sandboxPort()), "-U",
                        "postgres", "-d", "postgres", "-c", "SELECT 1"},
                       "/");
  INFO(as_owner.output);
  CHECK(as_owner.exit_code == 0);
}

}  // namespace dbsplit::test
