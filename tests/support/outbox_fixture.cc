// Implementation of the outbox test fixture (see outbox_fixture.h).
#include "support/outbox_fixture.h"

#include <sstream>
#include <stdexcept>

#include "catch2/catch.hpp"
#include "support/scenario.h"

namespace dbsplit::test {

OutboxScenario::OutboxScenario(const std::vector<std::string>& services,
                               const std::string& setup_sql, const std::string& plan_body,
                               const std::map<std::string, std::vector<std::string>>& roles)
    : bases_(services) {
  std::ostringstream plan;
  plan << "[migration]\nname = \"t\"\n\n";
  // The catalogue step reads pg_stat_statements (preloaded by the sandbox).
  std::string fixture = "CREATE EXTENSION IF NOT EXISTS pg_stat_statements;\n";
  for (const std::string& base : services) {
    std::string name = service(base);
    db_.dropsRole(name);  // `ownership` makes the group role; it outlives the database
    plan << "[[service]]\nname = \"" << name << "\"\n";
    auto it = roles.find(base);
    if (it != roles.end()) {
      plan << "roles = " << nlohmann::json(it->second).dump() << "\n";
    }
    plan << "\n";
  }
  db_.exec(fixture + expand(setup_sql));
  plan << expand(plan_body);
  dir_.write("dbsplit.toml", plan.str());
  plan_path_ = dir_.file("dbsplit.toml");
}

OutboxScenario::~OutboxScenario() = default;

std::string OutboxScenario::expand(const std::string& text) const {
  std::string out = text;
  for (const std::string& base : bases_) {
    const std::string token = "@" + base + "@";
    for (size_t at; (at = out.find(token)) != std::string::npos;) {
      out.replace(at, token.size(), service(base));
    }
  }
  return out;
}

std::vector<std::string> OutboxScenario::cliArgs(const std::vector<std::string>& args) const {
  std::vector<std::string> all = {"--plan", plan_path_, "--dsn", db_.dsn(), "--no-progress"};
  all.insert(all.end(), args.begin(), args.end());
  return all;
}

CliResult OutboxScenario::cli(const std::vector<std::string>& args,
                              const std::map<std::string, std::string>& env) const {
  return runCli(cliArgs(args), env);
}

nlohmann::json OutboxScenario::stepStatus(const std::string& step) const {
  return stepStatusOf([this](const auto& args) { return cli(args); }, step);
}

void OutboxScenario::advanceToOutbox() {
  advanceUntil([this](const auto& args) { return cli(args); }, "outbox");
}

std::vector<OutboxEvent> OutboxScenario::events(const std::string& base) const {
  std::vector<OutboxEvent> out;
  for (const auto& row : db_.rows("SELECT type, coalesce(aggregateid, ''), "
                                  "coalesce(payload::text, 'null'), op, source_table FROM \"" +
                                  service(base) + "\".outbox ORDER BY seq")) {
    out.push_back({row[0], row[1], nlohmann::json::parse(row[2]), row[3], row[4]});
  }
  return out;
}

std::string OutboxScenario::eventCount(const std::string& base) const {
  return db_.scalar("SELECT count(*) FROM \"" + service(base) + "\".outbox");
}

}  // namespace dbsplit::test
