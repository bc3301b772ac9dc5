// Every `$ dbsplit …` example in docs/ and README.md runs against the demo's
// schema and plan (playbooks/ecommerce) and exits as the text says (#21).
//
// The convention, on the line before a code block's opening fence:
//   <!-- docs-test: after ownership; exits 0 3 -->   the state it starts from
//                                                   (steps applied first) and
//                                                   each example's exit code
//   <!-- docs-test: skip REASON -->                  not run (say why)
// A block without one starts from the loaded database and expects exit 0 from
// each example. Every block gets a fresh database. In an example, `--plan X`
// is the test's plan, a ` # comment`, ` -> output` and a ` > file` redirection
// are dropped; the test adds --dsn.
#include <algorithm>
#include <filesystem>
#include <regex>
#include <sstream>

#include "catch2/catch.hpp"
#include "support/scenario.h"

using namespace dbsplit::test;

namespace {

namespace fs = std::filesystem;

const std::vector<std::string> kServices = {"catalog",  "cart",      "orders",
                                            "payments", "inventory", "fulfillment"};
const std::vector<std::string> kSteps = {"catalogue",   "ownership", "outbox",
                                         "projections", "revoke",    "split"};

struct Example {
  std::string where;  // file:line
  std::vector<std::string> args;
};

struct Block {
  std::string where;  // file:line of its first example
  std::string after;  // a step applied first, or ""
  std::vector<int> exits;
  std::string skip;
  std::vector<Example> examples;
};

std::vector<std::string> words(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  bool quoted = false, any = false;
  for (char c : text) {
    if (c == '"') {
      quoted = !quoted;
      any = true;
    } else if (!quoted && (c == ' ' || c == '\t')) {
      if (any) out.push_back(cur);
      cur.clear();
      any = false;
    } else {
      cur += c;
      any = true;
    }
  }
  if (any) out.push_back(cur);
  return out;
}

// The arguments of one `$ dbsplit …` line, as the test runs them.
std::vector<std::string> exampleArgs(std::string line) {
  for (const char* cut : {" #", " -> ", " > "}) {
    auto at = line.find(cut);
    if (at != std::string::npos) line.resize(at);
  }
  std::vector<std::string> in = words(line), out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == "--plan" || in[i] == "--dsn") {
      ++i;
      continue;
    }
    if (in[i].rfind("--plan=", 0) == 0 || in[i].rfind("--dsn=", 0) == 0) continue;
    out.push_back(in[i]);
  }
  return out;
}

std::vector<Block> blocksOf(const std::string& path, const std::string& shown) {
  std::vector<Block> out;
  std::istringstream in(readFile(path));
  std::string line, annotation;
  bool inside = false;
  int n = 0;
  static const std::regex kNote(R"(^\s*<!--\s*docs-test:\s*(.*?)\s*-->\s*$)");
  static const std::regex kExample(R"(^\s*\$ dbsplit\s(.*)$)");
  std::smatch m;
  while (std::getline(in, line)) {
    ++n;
    if (line.find("```") != std::string::npos && line.find_first_not_of(" ") == line.find("```")) {
      inside = !inside;
      if (inside) {
        Block b;
        std::string note = annotation;
        annotation.clear();
        if (note.rfind("skip", 0) == 0) b.skip = note.substr(4);
        std::smatch a;
        if (std::regex_search(note, a, std::regex(R"(after (\w+))"))) b.after = a[1];
        if (std::regex_search(note, a, std::regex(R"(exits?((?: \d+)+))"))) {
          std::istringstream codes(a[1].str());
          int code;
          while (codes >> code) b.exits.push_back(code);
        }
        out.push_back(b);
      } else if (!out.empty() && out.back().examples.empty()) {
        out.pop_back();
      }
      continue;
    }
    if (!inside) {
      if (std::regex_match(line, m, kNote)) {
        annotation = m[1];
      } else if (!line.empty()) {
        annotation.clear();
      }
      continue;
    }
    if (std::regex_match(line, m, kExample)) {
      Example e{shown + ":" + std::to_string(n), exampleArgs(m[1])};
      if (out.back().examples.empty()) out.back().where = e.where;
      out.back().examples.push_back(e);
    }
  }
  return out;
}

// The demo's plan and schema with its service names and roles prefixed: group
// and login roles are cluster-wide, and the demo's tests use the plain names.
std::string prefixed(std::string text, const std::string& prefix, const std::string& quote) {
  for (const auto& s : kServices) {
    for (const std::string& name : {s + "_app", s}) {
      const std::string from = quote + name + quote;
      const std::string to = quote + prefix + name + quote;
      for (size_t at = text.find(from); at != std::string::npos;
           at = text.find(from, at + to.size())) {
        text.replace(at, from.size(), to);
      }
    }
  }
  return text;
}

}  // namespace

TEST_CASE("every dbsplit example in the docs and the README exits as the text says", "[docs][pg]") {
  const std::string src = std::getenv("DBSPLIT_SOURCE_DIR");
  std::vector<std::pair<std::string, std::string>> files = {{src + "/README.md", "README.md"}};
  for (const auto& e : fs::recursive_directory_iterator(src + "/docs")) {
    if (e.path().extension() == ".md") {
      files.emplace_back(e.path().string(), fs::relative(e.path(), src).string());
    }
  }
  std::sort(files.begin(), files.end());
  std::vector<Block> blocks;
  for (const auto& [path, shown] : files) {
    for (Block& b : blocksOf(path, shown)) blocks.push_back(std::move(b));
  }
  REQUIRE(blocks.size() >= 5);  // the parser found the examples

  int run = 0, skipped = 0;
  for (const Block& b : blocks) {
    INFO("block at " << b.where);
    if (!b.skip.empty()) {
      ++skipped;
      continue;
    }
    REQUIRE((b.exits.empty() || b.exits.size() == b.examples.size()));
    if (!b.after.empty()) {
      REQUIRE(std::find(kSteps.begin(), kSteps.end(), b.after) != kSteps.end());
    }
    TestDb db;
    const std::string prefix = db.name() + "_";
    for (const auto& s : kServices) db.dropsRole(prefix + s);
    for (const auto& s : kServices) db.dropsRole(prefix + s + "_app");
    std::string schema = prefixed(readFile(src + "/playbooks/ecommerce/schema.sql"), prefix, "'");
    for (const auto& s : kServices) {
      const std::string from = " " + s + "_app";
      for (size_t at = schema.find(from); at != std::string::npos;
           at = schema.find(from, at + from.size() + prefix.size())) {
        schema.insert(at + 1, prefix);
      }
    }
    // The demo's tables, with less data: the examples are about the steps.
    for (const char* big : {"generate_series(1, 100000)", "generate_series(1, 20000)"}) {
      auto at = schema.find(big);
      if (at != std::string::npos)
        schema.replace(at, std::string(big).size(), "generate_series(1, 1000)");
    }
    db.exec(schema);
    db.exec("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
    TempDir dir;
    dir.write("dbsplit.toml", prefixed(readFile(src + "/playbooks/ecommerce.toml"), prefix, "\""));
    auto cli = [&](const std::vector<std::string>& args) {
      std::vector<std::string> all = {"--plan", dir.file("dbsplit.toml"), "--dsn", db.dsn()};
      all.insert(all.end(), args.begin(), args.end());
      return runCli(all, {}, dir.path());
    };
    if (!b.after.empty()) {
      auto next = std::find(kSteps.begin(), kSteps.end(), b.after) + 1;
      advanceUntil(cli, *next);
    }
    for (size_t i = 0; i < b.examples.size(); ++i) {
      const Example& e = b.examples[i];
      CliResult r = cli(e.args);
      ++run;
      const int expected = b.exits.empty() ? 0 : b.exits[i];
      INFO(e.where << ": dbsplit " <<
           [&] {
             std::string s;
             for (const auto& a : e.args) s += a + " ";
             return s;
           }() << "\n"
                   << r.out.substr(0, 3000) << r.err.substr(0, 3000));
      CHECK(r.exit_code == expected);
    }
  }
  INFO(run << " examples run, " << skipped << " block(s) skipped");
  CHECK(run >= 10);
  CHECK(skipped <= 2);
}
