// docs/architecture.md is the source of truth for the layout: its table says
// which folder of src/ may include which. This test reads that table and every
// #include in src/, so the layout cannot drift from the page.
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "catch2/catch.hpp"

namespace fs = std::filesystem;

namespace {

const fs::path kSource = DBSPLIT_TEST_DEFAULT_SOURCE_DIR;

std::string readFile(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The module a path under src/ belongs to: its first folder, or "steps/*" for
// a step's own folder (src/steps/<step>/...).
std::string moduleOf(const std::string& relative) {
  auto slash = relative.find('/');
  if (slash == std::string::npos) return "";  // main.cc
  std::string first = relative.substr(0, slash);
  if (first == "steps" && relative.find('/', slash + 1) != std::string::npos) return "steps/*";
  return first;
}

struct Rules {
  std::map<std::string, std::set<std::string>> allowed;
  std::set<std::string> anything;  // "every folder"
};

Rules readRules() {
  const std::string doc = readFile(kSource / "docs" / "architecture.md");
  auto begin = doc.find("## Who may include whom");
  REQUIRE(begin != std::string::npos);
  auto end = doc.find("\n## ", begin + 1);
  std::string section = doc.substr(begin, end - begin);
  Rules rules;
  static const std::regex row(R"(\n\| `([a-z/*]+)` \| [^|]* \| ([^|\n]*) \|)");
  static const std::regex name("`([a-z/*]+)`");
  for (std::sregex_iterator it(section.begin(), section.end(), row), stop; it != stop; ++it) {
    std::string folder = (*it)[1].str(), may = (*it)[2].str();
    rules.allowed[folder];
    if (may.find("every folder") != std::string::npos) rules.anything.insert(folder);
    for (std::sregex_iterator n(may.begin(), may.end(), name), nstop; n != nstop; ++n) {
      rules.allowed[folder].insert((*n)[1].str());
    }
  }
  return rules;
}

}  // namespace

TEST_CASE("the source tree follows docs/architecture.md", "[architecture][docs]") {
  const Rules rules = readRules();
  REQUIRE(rules.allowed.size() > 15);
  const fs::path src = kSource / "src";
  std::set<std::string> folders;
  for (const auto& entry : fs::directory_iterator(src)) {
    if (entry.is_directory()) folders.insert(entry.path().filename().string());
  }
  static const std::regex include(R"re(#include "([^"]+)")re");
  int checked = 0;
  for (const auto& entry : fs::recursive_directory_iterator(src)) {
    if (!entry.is_regular_file()) continue;
    const std::string file = fs::relative(entry.path(), src).string();
    const std::string from = moduleOf(file);
    if (from.empty()) continue;
    INFO(file);
    REQUIRE(rules.allowed.count(from) == 1);  // every folder has its row
    const std::string text = readFile(entry.path());
    for (std::sregex_iterator it(text.begin(), text.end(), include), end; it != end; ++it) {
      const std::string target = (*it)[1].str();
      if (folders.count(target.substr(0, target.find('/'))) == 0) continue;  // a library's header
      const std::string to = moduleOf(target);
      ++checked;
      if (to == from && to != "steps/*") continue;
      if (to == "steps/*" && from == "steps/*") {
        // A step's own folder, never another step's.
        std::string own = file.substr(0, file.find('/', 6));
        INFO("includes " << target);
        CHECK(target.rfind(own + "/", 0) == 0);
        continue;
      }
      if (rules.anything.count(from)) continue;
      INFO("includes " << target << " (" << to << ")");
      CHECK(rules.allowed.at(from).count(to) == 1);
    }
  }
  CHECK(checked > 300);
}
