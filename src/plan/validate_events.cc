// Cross-reference checks on [[event]] and [[projection]]: events publish
// declared tables, a projection copies only what its source's event publishes,
// and a consumer never projects a table it owns.
#include <algorithm>
#include <map>

#include "fmt/format.h"
#include "plan/read_plan.h"
#include "util/text.h"

namespace dbsplit::plan {
namespace {

bool contains(const std::vector<std::string>& list, const std::string& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

std::vector<std::string> tableNames(const Plan& plan) {
  std::vector<std::string> out;
  for (const auto& t : plan.tables) out.push_back(t.name.display());
  return out;
}

void checkEvent(const Plan& plan, const Event& e, const EntryPositions& p, Problems* problems) {
  if (!e.table.name.empty() && !plan.findTable(e.table)) {
    problems->add(p.at("table"),
                  fmt::format("[[event]] table: {} is not a declared [[table]]", e.table.display()),
                  util::closestMatch(e.table.display(), tableNames(plan)));
  }
  for (size_t i = 0; i < e.exclude.size(); ++i) {
    if (contains(e.columns, e.exclude[i])) {
      problems->add(p.item("exclude", i),
                    fmt::format("[[event]] exclude: column \"{}\" is also in columns; list it "
                                "in one of them",
                                e.exclude[i]));
    }
  }
  for (size_t i = 0; i < e.aggregate_id.size(); ++i) {
    if (contains(e.exclude, e.aggregate_id[i])) {
      problems->add(p.item("aggregate_id", i),
                    fmt::format("[[event]] aggregate_id: column \"{}\" is excluded; the "
                                "aggregate id must be readable from the row",
                                e.aggregate_id[i]));
    }
  }
}

void checkProjectionSource(const Plan& plan, const Projection& pr, const EntryPositions& p,
                           Problems* problems) {
  const Table* table = plan.findTable(pr.source);
  if (!table) {
    problems->add(
        p.at("source"),
        fmt::format("[[projection]] source: {} is not a declared [[table]]", pr.source.display()),
        util::closestMatch(pr.source.display(), tableNames(plan)));
    return;
  }
  if (!pr.consumer.empty() && table->owner == pr.consumer) {
    problems->add(p.at("consumer"),
                  fmt::format("[[projection]] consumer: \"{}\" owns {}; a service reads its own "
                              "tables directly and projects only tables of other services",
                              pr.consumer, pr.source.display()));
  }
  const Event* event = plan.findEvent(pr.source);
  if (!event) {
    problems->add(p.at("source"),
                  fmt::format("[[projection]] source: {} has no [[event]]; declare one so its "
                              "owner publishes the changes this projection applies",
                              pr.source.display()));
    return;
  }
  for (size_t i = 0; i < pr.columns.size(); ++i) {
    const std::string& column = pr.columns[i];
    if (contains(event->exclude, column)) {
      problems->add(p.item("columns", i),
                    fmt::format("[[projection]] columns: column \"{}\" is excluded by the "
                                "[[event]] for {}",
                                column, pr.source.display()));
    } else if (!event->columns.empty() && !contains(event->columns, column)) {
      problems->add(p.item("columns", i),
                    fmt::format("[[projection]] columns: column \"{}\" is not published by the "
                                "[[event]] for {} (published: {})",
                                column, pr.source.display(), util::join(event->columns, ", ")),
                    util::closestMatch(column, event->columns));
    }
  }
}

}  // namespace

void validateEvents(const Plan& plan, const PlanPositions& pos, Problems* problems) {
  std::map<QualifiedName, size_t> first_event;
  for (size_t i = 0; i < plan.events.size(); ++i) {
    const Event& e = plan.events[i];
    checkEvent(plan, e, pos.events[i], problems);
    if (e.table.name.empty()) continue;
    auto [it, inserted] = first_event.emplace(e.table, i);
    if (!inserted) {
      problems->add(pos.events[i].at("table"),
                    fmt::format("[[event]] table: {} already has an [[event]] (first at {}); "
                                "a table publishes one event stream",
                                e.table.display(), pos.events[it->second].entry.str()));
    }
  }

  std::vector<std::string> services;
  for (const auto& s : plan.services) services.push_back(s.name);
  std::map<std::pair<std::string, std::string>, size_t> first_projection;
  for (size_t i = 0; i < plan.projections.size(); ++i) {
    const Projection& pr = plan.projections[i];
    const EntryPositions& p = pos.projections[i];
    if (!pr.consumer.empty() && !plan.findService(pr.consumer)) {
      problems->add(
          p.at("consumer"),
          fmt::format("[[projection]] consumer: \"{}\" is not a declared [[service]]", pr.consumer),
          util::closestMatch(pr.consumer, services));
    }
    if (!pr.source.name.empty()) checkProjectionSource(plan, pr, p, problems);
    if (pr.consumer.empty() || pr.name.empty()) continue;
    // Projections become tables in the consumer's schema: one name, one table.
    auto [it, inserted] = first_projection.emplace(std::make_pair(pr.consumer, pr.name), i);
    if (!inserted) {
      problems->add(p.at("name"),
                    fmt::format("[[projection]] name: \"{}\" is already a projection of \"{}\" "
                                "(first at {})",
                                pr.name, pr.consumer, pos.projections[it->second].entry.str()));
    }
  }
}

}  // namespace dbsplit::plan
