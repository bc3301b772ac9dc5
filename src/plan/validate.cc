// Cross-reference checks on services, tables, waivers and the split mode:
// one owner per table, owners and waived services that exist, roles that map
// to exactly one service. Fields left empty by the reader were reported there
// and are skipped here.
#include <algorithm>
#include <map>

#include "fmt/format.h"
#include "plan/read_plan.h"
#include "util/text.h"

namespace dbsplit::plan {
namespace {

std::vector<std::string> serviceNames(const Plan& plan) {
  std::vector<std::string> out;
  for (const auto& s : plan.services) out.push_back(s.name);
  return out;
}

void checkServices(const Plan& plan, const PlanPositions& pos, Problems* problems) {
  std::map<std::string, size_t> first_by_name;
  std::map<std::string, size_t> service_by_role;
  for (size_t i = 0; i < plan.services.size(); ++i) {
    const Service& s = plan.services[i];
    if (!s.name.empty()) {
      auto [it, inserted] = first_by_name.emplace(s.name, i);
      if (!inserted) {
        problems->add(pos.services[i].at("name"),
                      fmt::format("[[service]] name: service \"{}\" declared twice (first at {})",
                                  s.name, pos.services[it->second].entry.str()));
      }
    }
    for (size_t r = 0; r < s.roles.size(); ++r) {
      auto [it, inserted] = service_by_role.emplace(s.roles[r], i);
      if (!inserted && it->second != i) {
        // Roles map pg_stat_statements rows to services; one role, one service.
        problems->add(pos.services[i].item("roles", r),
                      fmt::format("[[service]] roles: role \"{}\" belongs to services {} and {}",
                                  s.roles[r], plan.services[it->second].name, s.name));
      }
    }
  }
}

void checkTables(const Plan& plan, const PlanPositions& pos, Problems* problems) {
  std::vector<std::string> services = serviceNames(plan);
  std::map<QualifiedName, size_t> first_by_name;
  for (size_t i = 0; i < plan.tables.size(); ++i) {
    const Table& t = plan.tables[i];
    if (!t.name.name.empty()) {
      auto [it, inserted] = first_by_name.emplace(t.name, i);
      if (!inserted) {
        problems->add(pos.tables[i].at("name"),
                      fmt::format("[[table]] name: {} declared twice (first at {}): a table has "
                                  "exactly one owner",
                                  t.name.display(), pos.tables[it->second].entry.str()));
      }
    }
    if (!t.owner.empty() && !plan.findService(t.owner)) {
      problems->add(pos.tables[i].at("owner"),
                    fmt::format("[[table]] owner: \"{}\" is not a declared [[service]]", t.owner),
                    util::closestMatch(t.owner, services));
    }
  }
}

void checkWaivers(const Plan& plan, const PlanPositions& pos, Problems* problems) {
  std::vector<std::string> services = serviceNames(plan);
  std::vector<std::string> tables;
  for (const auto& t : plan.tables) tables.push_back(t.name.display());
  std::map<std::pair<std::string, QualifiedName>, size_t> first;
  for (size_t i = 0; i < plan.waivers.size(); ++i) {
    const Waiver& w = plan.waivers[i];
    if (!w.service.empty() && !plan.findService(w.service)) {
      problems->add(
          pos.waivers[i].at("service"),
          fmt::format("[[waiver]] service: \"{}\" is not a declared [[service]]", w.service),
          util::closestMatch(w.service, services));
    }
    if (w.table.name.empty()) continue;
    const Table* table = plan.findTable(w.table);
    if (!table) {
      problems->add(
          pos.waivers[i].at("table"),
          fmt::format("[[waiver]] table: {} is not a declared [[table]]", w.table.display()),
          util::closestMatch(w.table.display(), tables));
    } else if (!w.service.empty() && table->owner == w.service) {
      problems->add(pos.waivers[i].at("service"),
                    fmt::format("[[waiver]] service: \"{}\" owns {}; a waiver is for writes by "
                                "a service that does not own the table",
                                w.service, w.table.display()));
    }
    if (w.service.empty()) continue;
    auto [it, inserted] = first.emplace(std::make_pair(w.service, w.table), i);
    if (!inserted) {
      problems->add(pos.waivers[i].entry,
                    fmt::format("[[waiver]]: {} writing {} is waived twice (first at {})",
                                w.service, w.table.display(), pos.waivers[it->second].entry.str()));
    }
  }
}

// Database mode moves each owner's tables into its own database, so every
// owner needs one to move them to.
void checkSplitDatabases(const Plan& plan, const PlanPositions& pos, Problems* problems) {
  if (plan.split.mode != "database") return;
  for (size_t i = 0; i < plan.services.size(); ++i) {
    const Service& s = plan.services[i];
    if (!s.database.empty() || s.name.empty()) continue;
    bool owns = std::any_of(plan.tables.begin(), plan.tables.end(),
                            [&](const Table& t) { return t.owner == s.name; });
    if (owns) {
      problems->add(pos.services[i].entry,
                    fmt::format("[[service]]: \"{}\" owns tables but has no database; "
                                "[step.split] mode = \"database\" needs one for every owner",
                                s.name));
    }
  }
}

}  // namespace

void validateOwnership(const Plan& plan, const PlanPositions& pos, Problems* problems) {
  checkServices(plan, pos, problems);
  checkTables(plan, pos, problems);
  checkWaivers(plan, pos, problems);
  checkSplitDatabases(plan, pos, problems);
}

}  // namespace dbsplit::plan
