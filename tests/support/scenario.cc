#include "support/scenario.h"

#include <sstream>

#include "catch2/catch.hpp"

namespace dbsplit::test {

Scenario::Scenario(const std::string& setup_sql, const std::vector<std::string>& tables,
                   const std::string& extra_plan) {
  db_.exec(setup_sql);
  std::ostringstream plan;
  plan << "[migration]\nname = \"t\"\n\n[[service]]\nname = \"svc\"\n\n";
  for (const auto& t : tables) {
    nlohmann::json quoted = t;  // a TOML basic string is a JSON string
    plan << "[[table]]\nname = " << quoted.dump() << "\nowner = \"svc\"\n\n";
  }
  plan << extra_plan;
  dir_.write("dbsplit.toml", plan.str());
  plan_path_ = dir_.file("dbsplit.toml");
}

std::vector<std::string> Scenario::cliArgs(const std::vector<std::string>& args) const {
  std::vector<std::string> all = {"--plan", plan_path_, "--dsn", db_.dsn(), "--no-progress"};
  all.insert(all.end(), args.begin(), args.end());
  return all;
}

std::map<std::string, std::string> Scenario::cliEnv(
    const std::map<std::string, std::string>& env) const {
  std::map<std::string, std::string> all = {{"DBSPLIT_TEST_STEPS", "1"}};
  for (const auto& [k, v] : env) all[k] = v;
  return all;
}

CliResult Scenario::cli(const std::vector<std::string>& args,
                        const std::map<std::string, std::string>& env) const {
  return runCli(cliArgs(args), cliEnv(env));
}

std::vector<nlohmann::json> jsonLines(const std::string& out) {
  std::vector<nlohmann::json> lines;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    lines.push_back(nlohmann::json::parse(line));
  }
  return lines;
}

std::vector<nlohmann::json> eventsOf(const std::vector<nlohmann::json>& lines,
                                     const std::string& kind) {
  std::vector<nlohmann::json> out;
  for (const auto& l : lines) {
    if (l.value("event", "") == kind) out.push_back(l);
  }
  return out;
}

nlohmann::json stepStatusOf(const CliFn& cli, const std::string& step) {
  CliResult r = cli({"status", "--json"});
  for (const auto& ev : eventsOf(jsonLines(r.out), "step")) {
    if (ev["step"] == step) return ev;
  }
  return nullptr;
}

void advanceUntil(const CliFn& cli, const std::string& step) {
  for (int i = 0; i < 8; ++i) {
    CliResult st = cli({"status", "--json"});
    std::string next;
    for (const auto& ev : eventsOf(jsonLines(st.out), "step")) {
      if (ev["step"] == "selftest") continue;
      if (ev["status"] != "applied") {
        next = ev["step"];
        break;
      }
    }
    INFO(st.out << st.err);
    REQUIRE(!next.empty());
    if (next == step) return;
    CliResult r = cli({"run", "--next", "--yes"});
    INFO("advancing past " << next << ":\n" << r.out << r.err);
    REQUIRE(r.exit_code == 0);
  }
  FAIL(step << " never became the next step");
}

}  // namespace dbsplit::test
