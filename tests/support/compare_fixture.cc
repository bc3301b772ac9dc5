// Implementation of the compare test fixture (see compare_fixture.h).
#include "support/compare_fixture.h"

#include <sstream>

#include "journal/journal.h"
#include "support/scenario.h"

namespace dbsplit::test {

CompareScenario::CompareScenario(const std::string& setup_sql, const std::string& consumer_sql,
                                 const std::string& plan_body, bool consumer_db) {
  std::ostringstream plan;
  plan << "[migration]\nname = \"t\"\n\n"
       << "[[service]]\nname = \"orders\"\n\n"
       << "[[service]]\nname = \"fulfillment\"\n";
  if (consumer_db) {
    consumer_db_ = std::make_unique<TestDb>();
    plan << "database = " << nlohmann::json(consumer_db_->dsn()).dump() << "\n";
  }
  plan << "\n" << plan_body;
  dir_.write("dbsplit.toml", plan.str());
  db_.exec(setup_sql);
  if (!consumer_sql.empty()) consumerDb().exec(consumer_sql);
}

CliResult CompareScenario::cli(const std::vector<std::string>& args) const {
  std::vector<std::string> all = {"--plan", planPath(), "--dsn", db_.dsn(), "--no-progress"};
  all.insert(all.end(), args.begin(), args.end());
  return runCli(all);
}

CliResult CompareScenario::compare(const std::vector<std::string>& args) const {
  std::vector<std::string> all = {"compare"};
  all.insert(all.end(), args.begin(), args.end());
  return cli(all);
}

std::vector<nlohmann::json> CompareScenario::records() const {
  std::vector<nlohmann::json> out;
  if (!journal::Journal::exists(journalPath())) return out;
  auto j = journal::Journal::open(journalPath(), journal::Journal::Mode::kReadOnly);
  for (const auto& s : j->snapshots("compare")) out.push_back(nlohmann::json::parse(s.body));
  return out;
}

std::vector<nlohmann::json> differencesIn(const CliResult& r) {
  return eventsOf(jsonLines(r.out), "difference");
}

}  // namespace dbsplit::test
