// The names dbsplit gives relations in a service's schema never meet: the
// outbox (outbox step), the relay's cursor and the backfill's progress
// (projections step), each projection and its primary key index
// (<name>_pkey, clipped to 63 bytes), and the tables the split step moves
// into their owner's schema. Two of them with one name would fail in the
// middle of a step, or one would be taken for the other.
#include <map>

#include "fmt/format.h"
#include "plan/read_plan.h"

namespace dbsplit::plan {
namespace {

struct Taken {
  std::string what;  // "the outbox of orders", "projection order_view", ...
  SourcePos pos;     // where the plan asks for it; none for dbsplit's own
};

using Schema = std::map<std::string, Taken>;  // relation name -> who takes it

// Takes `name` in `schema` for `what`, or reports at `pos` who has it.
void take(Schema& schema, const std::string& service, const std::string& name,
          const std::string& what, const SourcePos& pos, const std::string& prefix,
          Problems* problems) {
  auto [it, inserted] = schema.emplace(name, Taken{what, pos});
  if (inserted) return;
  const Taken& first = it->second;
  problems->add(pos, fmt::format("{}{} would be {}.{}, which is already {}{}; rename one of them",
                                 prefix, what, service, name, first.what,
                                 first.pos.line > 0 ? " (at " + first.pos.str() + ")" : ""));
}

}  // namespace

void validateGeneratedNames(const Plan& plan, const PlanPositions& pos, Problems* problems) {
  std::map<std::string, Schema> schemas;
  // dbsplit's own first: the plan's entries give way to them.
  for (const auto& service : plan.publishingServices()) {
    schemas[service].emplace("outbox", Taken{"the outbox dbsplit makes for its events", {}});
  }
  for (const auto& pr : plan.projections) {
    Schema& s = schemas[pr.consumer];
    s.emplace("dbsplit_cursor", Taken{"the relay's cursor table dbsplit makes", {}});
    s.emplace("dbsplit_backfill", Taken{"the backfill's progress table dbsplit makes", {}});
  }
  // The split step moves each table into its owner's schema, under its name.
  for (size_t i = 0; i < plan.tables.size(); ++i) {
    const Table& t = plan.tables[i];
    if (t.owner.empty() || t.name.name.empty() || !plan.findService(t.owner)) continue;
    take(schemas[t.owner], t.owner, t.name.name, "table " + t.name.display() + " (moved by split)",
         pos.tables[i].at("name"), "[[table]] name: ", problems);
  }
  for (size_t i = 0; i < plan.projections.size(); ++i) {
    const Projection& pr = plan.projections[i];
    if (pr.consumer.empty() || pr.name.empty()) continue;
    const SourcePos at = pos.projections[i].at("name");
    Schema& s = schemas[pr.consumer];
    // A duplicate projection is reported by validateEvents.
    auto same = s.find(pr.name);
    if (same != s.end() && same->second.what == "projection " + pr.name) continue;
    take(s, pr.consumer, pr.name, "projection " + pr.name, at, "[[projection]] name: ", problems);
    const std::string key = primaryKeyNameOf(pr.name);
    take(s, pr.consumer, key,
         fmt::format("the primary key index of projection {}{}", pr.name,
                     key.size() < pr.name.size() + 5 ? " (clipped to 63 bytes)" : ""),
         at, "[[projection]] name: ", problems);
  }
}

}  // namespace dbsplit::plan
