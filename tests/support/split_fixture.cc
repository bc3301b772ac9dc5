// Implementation of the split test fixture (see split_fixture.h).
#include "support/split_fixture.h"
#include "sql/quote.h"

#include <iostream>
#include <sstream>

#include "catch2/catch.hpp"
#include "pg/conninfo.h"
#include "support/scenario.h"

namespace dbsplit::test {

SplitScenario::SplitScenario(const std::vector<std::string>& services, const std::string& setup_sql,
                             const std::string& plan_body,
                             const std::map<std::string, std::vector<std::string>>& roles)
    : bases_(services), roles_(roles), body_(plan_body) {
  // `ownership` makes the group roles; they outlive the databases.
  for (const std::string& base : services) db_.dropsRole(service(base));
  for (const auto& [svc, list] : roles) {
    for (const std::string& r : list) role_names_.push_back(db_.role(r));
  }
  db_.exec("CREATE EXTENSION IF NOT EXISTS pg_stat_statements;\n" + expand(setup_sql));
  plan_path_ = dir_.file("dbsplit.toml");
  writePlan();
}

void dropSubscriptions(const std::string& dsn) {
  try {
    auto c = connect(dsn);
    for (const auto& row : c->exec("SELECT subname FROM pg_subscription s JOIN pg_database d "
                                   "ON d.oid = s.subdbid WHERE d.datname = current_database()")) {
      std::string sub = dbsplit::sql::quoteIdent(row[0].c_str());
      c->exec("ALTER SUBSCRIPTION " + sub + " DISABLE");
      c->exec("ALTER SUBSCRIPTION " + sub + " SET (slot_name = NONE)");
      c->exec("DROP SUBSCRIPTION " + sub);
    }
  } catch (const std::exception&) {
    // The database may not exist (never created, or dropped by the test).
  }
}

SplitScenario::~SplitScenario() {
  auto warn = [](const std::string& what, const std::exception& e) {
    std::cerr << "warning: " << what << ": " << e.what() << "\n";
  };
  for (const std::string& name : extra_dbs_) dropSubscriptions(sandboxDsn(name));
  try {
    auto c = connect(sandboxDsn());
    c->execParams(
        "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots "
        "WHERE database = $1 AND active_pid IS NOT NULL",
        db_.name());
    c->execParams(
        "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
        "WHERE database = $1 AND NOT active",
        db_.name());
    for (const std::string& name : extra_dbs_) {
      c->exec("DROP DATABASE IF EXISTS " + dbsplit::sql::quoteIdent(name) + " WITH (FORCE)");
    }
  } catch (const std::exception& e) {
    warn("dropping the target databases", e);
  }
}

std::string SplitScenario::expand(const std::string& text) const {
  std::string out = text;
  auto replace = [&out](const std::string& token, const std::string& value) {
    for (size_t at = 0; (at = out.find(token, at)) != std::string::npos; at += value.size()) {
      out.replace(at, token.size(), value);
    }
  };
  for (const std::string& base : bases_) replace("@" + base + "@", service(base));
  for (const auto& [svc, list] : roles_) {
    for (const std::string& r : list) replace("@" + r + "@", role(r));
  }
  replace("@db@", db_.name());
  return out;
}

void SplitScenario::writePlan() {
  std::ostringstream plan;
  plan << "[migration]\nname = \"t\"\n\n";
  for (const std::string& base : bases_) {
    plan << "[[service]]\nname = \"" << service(base) << "\"\n";
    auto it = roles_.find(base);
    if (it != roles_.end()) {
      std::vector<std::string> names;
      for (const std::string& r : it->second) names.push_back(role(r));
      plan << "roles = " << nlohmann::json(names).dump() << "\n";
    }
    auto db = databases_.find(base);
    if (db != databases_.end()) plan << "database = " << nlohmann::json(db->second).dump() << "\n";
    auto more = service_extra_.find(base);
    if (more != service_extra_.end()) plan << more->second << "\n";
    plan << "\n";
  }
  plan << expand(body_) << "\n" << expand(extra_);
  dir_.write("dbsplit.toml", plan.str());
}

void SplitScenario::setServiceDatabase(const std::string& base, const std::string& dsn) {
  databases_[base] = dsn;
  writePlan();
}

void SplitScenario::setServiceExtra(const std::string& base, const std::string& lines) {
  service_extra_[base] = lines;
  writePlan();
}

void SplitScenario::setPlanExtra(const std::string& extra) {
  extra_ = extra;
  writePlan();
}

CliResult SplitScenario::cli(const std::vector<std::string>& args,
                             const std::map<std::string, std::string>& env) const {
  std::vector<std::string> all = {"--plan", plan_path_, "--dsn", db_.dsn(), "--no-progress"};
  all.insert(all.end(), args.begin(), args.end());
  return runCli(all, env);
}

nlohmann::json SplitScenario::stepStatus(const std::string& step) const {
  return stepStatusOf([this](const auto& args) { return cli(args); }, step);
}

void SplitScenario::advanceTo(const std::string& step) {
  advanceUntil([this](const auto& args) { return cli(args); }, step);
}

std::string SplitScenario::roleDsn(const std::string& role, const std::string& dbname) const {
  return "host=" + pg::quoteConninfoValue(sandboxDir()) + " port=" + std::to_string(sandboxPort()) +
         " user=" + pg::quoteConninfoValue(role) +
         " dbname=" + pg::quoteConninfoValue(dbname.empty() ? db_.name() : dbname);
}

std::string SplitScenario::extraDatabase(const std::string& base, bool create) {
  std::string name = db_.name() + "_" + base;
  extra_dbs_.push_back(name);
  if (create) db_.exec("CREATE DATABASE \"" + name + "\"");
  return name;
}

std::string SplitScenario::scalarIn(const std::string& dbname, const std::string& sql) const {
  auto c = connect(sandboxDsn(dbname));
  pg::Result r = c->exec(sql);
  if (r.empty() || r[0][0].is_null()) return "";
  return r[0][0].c_str();
}

void SplitScenario::execIn(const std::string& dbname, const std::string& sql) const {
  auto c = connect(sandboxDsn(dbname));
  c->exec(sql);
}

std::string SplitScenario::roleSettings() const {
  std::string out;
  for (const auto& row : db_.rows("SELECT r.rolname, coalesce(d.datname, '*'), s.setconfig::text "
                                  "FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole "
                                  "LEFT JOIN pg_database d ON d.oid = s.setdatabase "
                                  "WHERE r.rolname LIKE '" +
                                  db_.name() + "%' ORDER BY 1, 2")) {
    out += row[0] + " " + row[1] + " " + row[2] + "\n";
  }
  return out;
}

}  // namespace dbsplit::test
