// Compiled into the PostgreSQL test binaries (not the support library, so the
// linker always keeps it): the suite's sandbox and binary locations, known at
// configure time, become environment defaults before main() runs. ctest's
// per-test ENVIRONMENT cannot carry a list through catch_discover_tests, and
// running a test binary by hand should work too. A variable already set wins.
#include <cstdlib>

namespace {

const bool kDefaultsSet = [] {
  ::setenv("DBSPLIT_TEST_SANDBOX_DIR", DBSPLIT_TEST_DEFAULT_SANDBOX_DIR, 0);
  ::setenv("DBSPLIT_TEST_PORT", DBSPLIT_TEST_DEFAULT_PORT, 0);
  ::setenv("DBSPLIT_TEST_SANDBOX2_DIR", DBSPLIT_TEST_DEFAULT_SANDBOX2_DIR, 0);
  ::setenv("DBSPLIT_TEST_PORT2", DBSPLIT_TEST_DEFAULT_PORT2, 0);
  ::setenv("DBSPLIT_BINARY", DBSPLIT_TEST_DEFAULT_BINARY, 0);
  ::setenv("DBSPLIT_SOURCE_DIR", DBSPLIT_TEST_DEFAULT_SOURCE_DIR, 0);
  return true;
}();

}  // namespace
