// The layering rule of docs/architecture.md that the compiler cannot check:
// only src/pg talks to the PostgreSQL driver (the C++ library or libpq's own
// header).
// Every other layer, the tests and the benchmarks use pg::Session, pg::Result
// and pg::Transaction, so a driver exception cannot escape untranslated and the
// driver can change in one folder.
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "catch2/catch.hpp"

namespace {

namespace fs = std::filesystem;

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// "path:line" of every line outside src/pg naming the driver. The needles are
// split so that this file does not name it either.
std::vector<std::string> driverMentions(const fs::path& root) {
  const std::vector<std::string> needles = {std::string("pq") + "xx", std::string("libpq") + "-fe"};
  std::vector<std::string> found;
  for (const char* dir : {"src", "tests", "bench"}) {
    for (const auto& entry : fs::recursive_directory_iterator(root / dir)) {
      if (!entry.is_regular_file()) continue;
      const fs::path rel = fs::relative(entry.path(), root);
      if (rel.string().rfind("src/pg/", 0) == 0) continue;
      std::ifstream in(entry.path());
      std::string line;
      for (int n = 1; std::getline(in, line); ++n) {
        const std::string text = lower(line);
        for (const auto& needle : needles) {
          if (text.find(needle) != std::string::npos) {
            found.push_back(rel.string() + ":" + std::to_string(n) + ": " + line);
            break;
          }
        }
      }
    }
  }
  return found;
}

}  // namespace

TEST_CASE("only src/pg names the PostgreSQL driver, in code, tests and benchmarks", "[layout]") {
  const fs::path root(DBSPLIT_TEST_DEFAULT_SOURCE_DIR);
  REQUIRE(fs::is_directory(root / "src" / "pg"));
  std::vector<std::string> found = driverMentions(root);
  std::ostringstream list;
  for (const auto& f : found) list << f << "\n";
  INFO("outside src/pg:\n" << list.str());
  CHECK(found.empty());
}
