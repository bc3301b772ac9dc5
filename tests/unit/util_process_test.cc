// Child processes get secrets through their environment, never their argv.
#include <cstdlib>

#include "catch2/catch.hpp"
#include "util/process.h"

using dbsplit::util::runProcess;
using dbsplit::util::runProcessStdout;

TEST_CASE("a child sees the variables laid over its environment, and only it does",
          "[process][security]") {
  ::setenv("DBSPLIT_TEST_KEPT", "kept", 1);
  auto r = runProcess({"/bin/sh", "-c", "echo \"$DBSPLIT_TEST_SECRET $DBSPLIT_TEST_KEPT\""}, {},
                      {{"DBSPLIT_TEST_SECRET", "s3cret"}});
  CHECK(r.exit_code == 0);
  CHECK(r.output == "s3cret kept\n");
  CHECK(std::getenv("DBSPLIT_TEST_SECRET") == nullptr);

  auto over = runProcessStdout({"/bin/sh", "-c", "echo $DBSPLIT_TEST_KEPT"},
                               {{"DBSPLIT_TEST_KEPT", "replaced"}});
  CHECK(over.output == "replaced\n");
  CHECK(std::string(std::getenv("DBSPLIT_TEST_KEPT")) == "kept");
  ::unsetenv("DBSPLIT_TEST_KEPT");
}
