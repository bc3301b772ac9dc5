// The shared surface (shared.h).
#include "catalogue/shared.h"

#include "catalogue/render.h"

namespace dbsplit::catalogue {

std::pair<std::string, std::string> parseVia(const std::string& via) {
  for (const std::string kind : {"view", "function"}) {
    if (via.rfind(kind + " ", 0) != 0) continue;
    std::string name = via.substr(kind.size() + 1);
    if (kind == "function") name = name.substr(0, name.find('('));
    return {kind, name};
  }
  return {"", ""};
}

std::vector<SharedSurface> sharedSurface(const Snapshot& s,
                                         const std::map<std::string, std::string>& owner_of) {
  std::map<std::pair<std::string, std::string>, SharedSurface> by_object;
  for (const Access& a : s.accesses) {
    auto [kind, name] = parseVia(a.via);
    if (kind.empty()) continue;
    SharedSurface& o = by_object[{kind, a.via}];
    o.kind = kind;
    o.name = name;
    o.via = a.via;
    o.readers.insert(a.service);
    o.tables.insert(a.table);
    o.calls += a.calls;
    auto owner = owner_of.find(a.table);
    if (owner == owner_of.end()) continue;
    o.spans.insert(owner->second);
    if (a.service != kUnassigned && a.service != owner->second) o.crossing.insert(a.service);
  }
  std::vector<SharedSurface> out;
  for (auto& [key, o] : by_object) {
    if (o.spans.size() >= 2 || !o.crossing.empty()) out.push_back(std::move(o));
  }
  return out;
}

std::vector<SharedSurface> sharedSurface(const Snapshot& s, const plan::Plan* plan) {
  std::map<std::string, std::string> owner_of;
  for (const auto& [table, o] : ownership(s, plan)) {
    if (!o.owner.empty() && !o.tie) owner_of[table] = o.owner;
  }
  return sharedSurface(s, owner_of);
}

nlohmann::json sharedSurfaceJson(const std::vector<SharedSurface>& shared) {
  nlohmann::json out = nlohmann::json::array();
  for (const SharedSurface& o : shared) {
    out.push_back({{"kind", o.kind},
                   {"name", o.name},
                   {"via", o.via},
                   {"spans", o.spans},
                   {"readers", o.readers},
                   {"crossing", o.crossing},
                   {"tables", o.tables},
                   {"calls", o.calls}});
  }
  return out;
}

}  // namespace dbsplit::catalogue
