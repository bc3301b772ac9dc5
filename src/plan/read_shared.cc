// Reads and checks [[view]] and [[function]]: what happens, at step 5, to a
// view or function that spans services (docs/plan-reference.md#view-and-function).
// One view may be rebuilt for several consumers (one entry each); `revoke` and
// `keep` decide for the object as a whole, so they stand alone.
#include <algorithm>
#include <map>

#include "fmt/format.h"
#include "plan/read_plan.h"
#include "util/text.h"

namespace dbsplit::plan {
namespace {

const std::vector<std::string> kViewDecisions = {"rebuild", "revoke", "keep"};
const std::vector<std::string> kFunctionDecisions = {"revoke", "keep"};

void readEntries(const toml::table& root, const std::string& kind, const ReadContext& ctx,
                 Plan* plan, PlanPositions* pos) {
  const std::string header = "[[" + kind + "]]";
  forEachEntry(root, kind, ctx, [&](const toml::table& table) {
    EntryPositions& p = pos->shared.emplace_back();
    EntryReader reader(table, header, ctx.file, ctx.problems, &p);
    reader.checkKeys({"name", "decision", "service", "query", "reason"});
    SharedObject o;
    o.kind = kind;
    o.name = readQualifiedName(reader, "name");
    const auto& allowed = kind == "view" ? kViewDecisions : kFunctionDecisions;
    if (auto decision = reader.string("decision", true)) {
      if (checkEnum(reader, "decision", *decision, allowed)) o.decision = *decision;
    }
    const bool rebuild = o.decision == "rebuild";
    if (auto service = reader.string("service", rebuild)) o.service = *service;
    if (auto query = reader.string("query", rebuild)) o.query = *query;
    if (auto reason = reader.string("reason", o.decision == "keep")) {
      if (reason->find_first_not_of(" \t\r\n") == std::string::npos) {
        reader.problem("reason", "must say why it stays readable after step 5");
      }
      o.reason = *reason;
    }
    if (!o.decision.empty() && !rebuild) {
      for (const char* key : {"service", "query"}) {
        if (table.contains(key)) {
          reader.problem(key, fmt::format("only a decision = \"rebuild\" takes {} (this one is "
                                          "\"{}\")",
                                          key, o.decision));
        }
      }
    }
    o.pos = p.entry;
    plan->shared.push_back(std::move(o));
  });
}

}  // namespace

void readShared(const toml::table& root, const ReadContext& ctx, Plan* plan, PlanPositions* pos) {
  readEntries(root, "view", ctx, plan, pos);
  readEntries(root, "function", ctx, plan, pos);
}

void validateShared(const Plan& plan, const PlanPositions& pos, Problems* problems) {
  std::vector<std::string> services;
  for (const auto& s : plan.services) services.push_back(s.name);
  // (kind, name) -> first entry; (name, service) -> first rebuild.
  std::map<std::pair<std::string, QualifiedName>, size_t> first;
  std::map<std::pair<QualifiedName, std::string>, size_t> rebuilt;
  for (size_t i = 0; i < plan.shared.size(); ++i) {
    const SharedObject& o = plan.shared[i];
    const std::string header = "[[" + o.kind + "]]";
    if (!o.service.empty() && !plan.findService(o.service)) {
      problems->add(
          pos.shared[i].at("service"),
          fmt::format("{} service: \"{}\" is not a declared [[service]]", header, o.service),
          util::closestMatch(o.service, services));
    }
    if (o.name.name.empty() || o.decision.empty()) continue;
    if (plan.findTable(o.name)) {
      problems->add(pos.shared[i].at("name"),
                    fmt::format("{} name: {} is a [[table]]; this entry is for a {} over tables",
                                header, o.name.display(), o.kind));
    }
    if (o.decision == "rebuild" && !o.service.empty()) {
      bool projects = std::any_of(plan.projections.begin(), plan.projections.end(),
                                  [&](const Projection& p) { return p.consumer == o.service; });
      if (!projects && plan.findService(o.service)) {
        problems->add(pos.shared[i].at("service"),
                      fmt::format("{} service: \"{}\" has no [[projection]]; a rebuilt view "
                                  "reads its consumer's projections",
                                  header, o.service));
      }
      auto [at, fresh] = rebuilt.emplace(std::make_pair(o.name, o.service), i);
      if (!fresh) {
        problems->add(pos.shared[i].entry,
                      fmt::format("{}: {} is rebuilt for {} twice (first at {})", header,
                                  o.name.display(), o.service, pos.shared[at->second].entry.str()));
      }
      for (const auto& p : plan.projections) {
        if (p.consumer == o.service && p.name == o.name.name) {
          problems->add(pos.shared[i].at("name"),
                        fmt::format("{}: {} already has a [[projection]] named \"{}\" (at {}); "
                                    "the rebuilt view takes the view's name in its schema",
                                    header, o.service, p.name, p.pos.str()));
        }
      }
    }
    auto [at, fresh] = first.emplace(std::make_pair(o.kind, o.name), i);
    if (fresh) continue;
    const SharedObject& earlier = plan.shared[at->second];
    if (o.decision != "rebuild" || earlier.decision != "rebuild") {
      problems->add(pos.shared[i].entry,
                    fmt::format("{}: {} is decided twice (\"{}\" here, \"{}\" at {}); only "
                                "\"rebuild\" may repeat, once per consumer",
                                header, o.name.display(), o.decision, earlier.decision,
                                pos.shared[at->second].entry.str()));
    }
  }
}

}  // namespace dbsplit::plan
