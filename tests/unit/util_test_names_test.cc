// ctest registers each Catch test by name through a CMake list, where ';'
// separates items: a name holding one became two ctest entries, neither of
// which matched the test, and both passed without running it. This scans
// every TEST_CASE name of the tree.
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "catch2/catch.hpp"

namespace fs = std::filesystem;

TEST_CASE("no test name holds a semicolon (ctest would split it and run nothing)", "[util]") {
  const fs::path tests = fs::path(DBSPLIT_TEST_DEFAULT_SOURCE_DIR) / "tests";
  const std::regex test_case(R"re(TEST_CASE\(\s*((?:"(?:[^"\\]|\\.)*"\s*)+))re");
  const std::regex literal(R"re("((?:[^"\\]|\\.)*)")re");
  std::vector<std::string> bad;
  int names = 0;
  for (const auto& entry : fs::recursive_directory_iterator(tests)) {
    if (entry.path().extension() != ".cc") continue;
    std::ifstream in(entry.path());
    std::stringstream text;
    text << in.rdbuf();
    const std::string source = text.str();
    for (std::sregex_iterator m(source.begin(), source.end(), test_case), end; m != end; ++m) {
      const std::string literals = (*m)[1];
      std::string name;
      for (std::sregex_iterator p(literals.begin(), literals.end(), literal); p != end; ++p) {
        name += (*p)[1];
      }
      ++names;
      if (name.find(';') != std::string::npos) bad.push_back(entry.path().string() + ": " + name);
    }
  }
  INFO(names << " test names read");
  CHECK(names > 100);
  CHECK(bad == std::vector<std::string>{});
}
