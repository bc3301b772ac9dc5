// The error kinds table (src/util/error_kinds.h) is the one list of the stable
// names scripts read from the JSON `error` event: the code may raise no other
// kind, and docs/exit-codes.md lists exactly the same table.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "catch2/catch.hpp"
#include "util/error_kinds.h"

namespace fs = std::filesystem;
using dbsplit::ErrorKind;
using dbsplit::ExitCode;

namespace {

std::string readFile(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// One place in src/ that raises an error, with the kind as written there.
struct Raise {
  std::string where;  // file:line
  std::string kind;   // the literal, or the expression when it is not one
  bool literal = true;
  ExitCode code = ExitCode::kOk;
};

int lineOf(const std::string& text, std::size_t offset) {
  return 1 + static_cast<int>(std::count(text.begin(), text.begin() + offset, '\n'));
}

// Finds Error::usage/precondition/stepFailed/drift(kind, ...) and
// Error(ExitCode::kX, kind, ...) in every source file of src/.
std::vector<Raise> raisesIn(const fs::path& src) {
  static const std::map<std::string, ExitCode> factories = {
      {"usage", ExitCode::kUsage},
      {"precondition", ExitCode::kPrecondition},
      {"stepFailed", ExitCode::kStepFailed},
      {"drift", ExitCode::kDrift}};
  static const std::map<std::string, ExitCode> codes = {
      {"StepFailed", ExitCode::kStepFailed},     {"Usage", ExitCode::kUsage},
      {"Precondition", ExitCode::kPrecondition}, {"Locked", ExitCode::kLocked},
      {"Confirm", ExitCode::kConfirm},           {"Drift", ExitCode::kDrift}};
  static const std::regex factory(
      R"re(Error::(usage|precondition|stepFailed|drift)\(\s*("([^"]*)"|[^,)]+))re");
  static const std::regex ctor(R"re(Error\(\s*ExitCode::k(\w+),\s*("([^"]*)"|[^,)]+))re");
  std::vector<Raise> out;
  for (const auto& entry : fs::recursive_directory_iterator(src)) {
    const fs::path& path = entry.path();
    if (path.extension() != ".cc" && path.extension() != ".h") continue;
    if (path.filename() == "error.cc" || path.filename() == "error.h") continue;  // the factories
    const std::string text = readFile(path);
    const std::string name = fs::relative(path, src.parent_path()).string();
    for (auto* re : {&factory, &ctor}) {
      for (std::sregex_iterator it(text.begin(), text.end(), *re), end; it != end; ++it) {
        const std::smatch& m = *it;
        Raise r;
        r.where =
            name + ":" + std::to_string(lineOf(text, static_cast<std::size_t>(m.position(0))));
        r.literal = m[3].matched;
        r.kind = r.literal ? m[3].str() : m[2].str();
        r.code = re == &factory ? factories.at(m[1].str()) : codes.at(m[1].str());
        out.push_back(r);
      }
    }
  }
  return out;
}

const fs::path kSource = DBSPLIT_TEST_DEFAULT_SOURCE_DIR;

}  // namespace

TEST_CASE("the error kinds table is sorted, unique and says what each kind means", "[errors]") {
  const auto& kinds = dbsplit::errorKinds();
  REQUIRE(kinds.size() > 50);
  for (std::size_t i = 1; i < kinds.size(); ++i) {
    INFO(kinds[i].name);
    CHECK(kinds[i - 1].name < kinds[i].name);
  }
  for (const ErrorKind& k : kinds) {
    INFO(k.name);
    CHECK(std::regex_match(std::string(k.name), std::regex("[a-z][a-z0-9_]*")));
    CHECK(k.code != ExitCode::kOk);
    CHECK(k.meaning.size() > 10);
    CHECK(dbsplit::findErrorKind(k.name) == &k);
  }
  CHECK(dbsplit::findErrorKind("no_such_kind") == nullptr);
}

TEST_CASE("every error kind the code raises is in the table, with the same exit code", "[errors]") {
  std::vector<Raise> raises = raisesIn(kSource / "src");
  REQUIRE(raises.size() > 100);  // the scan found the throw sites
  for (const Raise& r : raises) {
    INFO(r.where << ": kind " << r.kind);
    if (!r.literal) {
      // Only re-raising a caught error keeps a kind that is not spelled out.
      CHECK(std::regex_search(r.kind, std::regex(R"(\.kind\(\)?\s*$)")));
      continue;
    }
    const ErrorKind* k = dbsplit::findErrorKind(r.kind);
    REQUIRE(k != nullptr);
    CHECK(dbsplit::toInt(k->code) == dbsplit::toInt(r.code));
  }
}

TEST_CASE("every error kind in the table is raised somewhere", "[errors]") {
  std::set<std::string> raised;
  for (const Raise& r : raisesIn(kSource / "src")) raised.insert(r.kind);
  for (const ErrorKind& k : dbsplit::errorKinds()) {
    INFO(k.name);
    CHECK(raised.count(std::string(k.name)) == 1);
  }
}

TEST_CASE("docs/exit-codes.md lists exactly the error kinds table", "[errors][docs]") {
  const std::string doc = readFile(kSource / "docs" / "exit-codes.md");
  const auto section = doc.find("## Error kinds");
  REQUIRE(section != std::string::npos);
  static const std::regex row(R"(\| `([a-z0-9_]+)` \| (\d) \| (.*) \|)");
  std::map<std::string, std::pair<int, std::string>> listed;
  std::string rest = doc.substr(section);
  for (std::sregex_iterator it(rest.begin(), rest.end(), row), end; it != end; ++it) {
    listed[(*it)[1].str()] = {std::stoi((*it)[2].str()), (*it)[3].str()};
  }
  CHECK(listed.size() == dbsplit::errorKinds().size());
  for (const ErrorKind& k : dbsplit::errorKinds()) {
    INFO(k.name);
    auto it = listed.find(std::string(k.name));
    REQUIRE(it != listed.end());
    CHECK(it->second.first == dbsplit::toInt(k.code));
    CHECK(it->second.second == std::string(k.meaning));
  }
}
