// Diffing a step's journaled inputs against the plan's now (see inputs_diff.h).
// Sections of the inputs are matched to plan entries by what identifies them
// (a service's name, a waiver's service and table, ...); what is left of an
// entry is compared field by field.
#include "plan/inputs_diff.h"

#include <map>
#include <set>

#include "fmt/format.h"

namespace dbsplit::plan {
namespace {

using nlohmann::json;

// One kind of plan entry as it appears in the inputs.
struct Section {
  const char* key;                 // the inputs' key: "services", "waivers", ...
  const char* entry;               // "[[service]]", ...
  std::vector<const char*> ident;  // fields that identify an item (first present wins
                                   // for "tables": name or table)
};

const std::vector<Section>& sections() {
  static const std::vector<Section> all = {
      {"services", "[[service]]", {"name"}},
      {"tables", "[[table]]", {"name"}},
      {"waivers", "[[waiver]]", {"service", "table"}},
      {"events", "[[event]]", {"table"}},
      {"projections", "[[projection]]", {"consumer", "name"}},
      {"views", "[[view]]", {"name"}},
      {"kept_views", "[[view]]", {}},
      {"shared", "", {"kind", "name"}},
      {"sources", "[step.catalogue] source", {}},
  };
  return all;
}

const Section* sectionOf(const std::string& key) {
  for (const auto& s : sections()) {
    if (key == s.key) return &s;
  }
  return nullptr;
}

std::string text(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

// `public.orders` for both `public.orders` and `"public"."orders"`.
std::string relation(const std::string& name) {
  std::string error;
  auto q = parseQualifiedName(name, &error);
  return q ? q->display() : name;
}

bool sameRelation(const QualifiedName& q, const std::string& name) {
  return q.display() == name || q.quoted() == name || q.display() == relation(name);
}

std::string field(const json& item, const char* key) {
  return item.is_object() && item.contains(key) ? text(item.at(key)) : std::string();
}

// The fields that identify `item` in `section`, as text ("" when none).
std::string identity(const Section& section, const json& item) {
  if (!item.is_object()) return text(item);
  std::string key = section.key;
  if (key == "tables") {
    // Split's and finalize's tables name the relation `table`.
    return relation(item.contains("name") ? field(item, "name") : field(item, "table"));
  }
  std::string out;
  for (const char* f : section.ident) {
    std::string v = field(item, f);
    if (std::string(f) == "table" || std::string(f) == "name") v = relation(v);
    out += (out.empty() ? "" : "\x1f") + v;
  }
  return out;
}

std::string label(const Section& section, const json& item) {
  std::string key = section.key;
  if (!item.is_object()) {
    return fmt::format("{} {}", section.entry,
                       key == "sources" ? json(text(item)).dump() : relation(text(item)));
  }
  if (key == "waivers") {
    return fmt::format("[[waiver]] {} on {}", field(item, "service"),
                       relation(field(item, "table")));
  }
  if (key == "projections") {
    return fmt::format("[[projection]] {} of {} (from {})", field(item, "name"),
                       field(item, "consumer"), relation(field(item, "source")));
  }
  if (key == "shared") {
    return fmt::format("[[{}]] {}", field(item, "kind"), relation(field(item, "name")));
  }
  return fmt::format("{} {}", section.entry, identity(section, item));
}

std::string at(const SourcePos& pos) {
  if (pos.line <= 0) return {};
  return fmt::format("{}:{}", pos.file, pos.line);
}

// Where the plan holds the entry `item` of `section` now; "" when it does not.
std::string whereNow(const Plan& plan, const Section& section, const json& item) {
  std::string key = section.key;
  std::string name = item.is_object() ? field(item, "name") : text(item);
  if (key == "services") {
    if (const Service* s = plan.findService(name)) return at(s->pos);
  } else if (key == "tables") {
    std::string t = identity(section, item);
    for (const auto& e : plan.tables) {
      if (sameRelation(e.name, t)) return at(e.pos);
    }
  } else if (key == "waivers") {
    for (const auto& w : plan.waivers) {
      if (w.service == field(item, "service") && sameRelation(w.table, field(item, "table"))) {
        return at(w.pos);
      }
    }
  } else if (key == "events") {
    for (const auto& e : plan.events) {
      if (sameRelation(e.table, field(item, "table"))) return at(e.pos);
    }
  } else if (key == "projections") {
    for (const auto& p : plan.projections) {
      if (p.consumer == field(item, "consumer") && p.name == name) return at(p.pos);
    }
  } else if (key == "views" || key == "kept_views" || key == "shared") {
    std::string kind = key == "shared" ? field(item, "kind") : "view";
    for (const auto& o : plan.shared) {
      if (o.kind == kind && sameRelation(o.name, name)) return at(o.pos);
    }
  } else if (key == "sources") {
    for (size_t i = 0; i < plan.catalogue.sources.size(); ++i) {
      if (plan.catalogue.sources[i] == name && i < plan.catalogue.source_pos.size()) {
        return at(plan.catalogue.source_pos[i]);
      }
    }
  }
  return {};
}

// `owner "a" -> "b"; roles [..] -> [..]` for the fields that differ.
std::string fieldChanges(const json& before, const json& now) {
  std::vector<std::string> parts;
  std::set<std::string> keys;
  for (auto it = before.begin(); it != before.end(); ++it) keys.insert(it.key());
  for (auto it = now.begin(); it != now.end(); ++it) keys.insert(it.key());
  for (const auto& k : keys) {
    json a = before.contains(k) ? before.at(k) : json();
    json b = now.contains(k) ? now.at(k) : json();
    if (a == b) continue;
    parts.push_back(fmt::format("{} {} -> {}", k, a.is_null() ? "unset" : a.dump(),
                                b.is_null() ? "unset" : b.dump()));
  }
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : "; ") + p;
  return out;
}

void diffSection(const Section& section, const json& before, const json& now, const Plan& plan,
                 std::vector<InputChange>& out) {
  std::map<std::string, const json*> old_items;
  for (const auto& item : before) old_items.emplace(identity(section, item), &item);
  std::set<std::string> seen;
  for (const auto& item : now) {
    std::string id = identity(section, item);
    if (!seen.insert(id).second) continue;
    auto found = old_items.find(id);
    if (found == old_items.end()) {
      out.push_back({"added", label(section, item), whereNow(plan, section, item), ""});
    } else if (*found->second != item) {
      out.push_back({"changed", label(section, item), whereNow(plan, section, item),
                     item.is_object() && found->second->is_object()
                         ? fieldChanges(*found->second, item)
                         : ""});
    }
  }
  for (const auto& item : before) {
    std::string id = identity(section, item);
    if (seen.count(id)) continue;
    seen.insert(id);
    out.push_back({"removed", label(section, item), "", ""});
  }
}

void diffSetting(const std::string& where, const std::string& key, const json& before,
                 const json& now, std::vector<InputChange>& out) {
  if (before == now) return;
  std::string entry = fmt::format("{} {}", where, key);
  if (before.is_null()) {
    out.push_back({"added", entry, "", now.dump()});
  } else if (now.is_null()) {
    out.push_back({"removed", entry, "", before.dump()});
  } else {
    out.push_back({"changed", entry, "", fmt::format("{} -> {}", before.dump(), now.dump())});
  }
}

}  // namespace

std::string InputChange::str() const {
  std::string out = change + " " + entry;
  if (!where.empty()) out += " at " + where;
  if (!detail.empty()) out += " (" + detail + ")";
  return out;
}

json InputChange::toJson() const {
  json j = {{"change", change}, {"entry", entry}};
  if (!where.empty()) j["at"] = where;
  if (!detail.empty()) j["detail"] = detail;
  return j;
}

std::vector<InputChange> diffInputs(const json& before, const json& now, const Plan& plan,
                                    const std::string& step) {
  std::vector<InputChange> out;
  std::set<std::string> keys;
  if (before.is_object()) {
    for (auto it = before.begin(); it != before.end(); ++it) keys.insert(it.key());
  }
  if (now.is_object()) {
    for (auto it = now.begin(); it != now.end(); ++it) keys.insert(it.key());
  }
  const json empty_array = json::array();
  for (const auto& k : keys) {
    const json& a = before.is_object() && before.contains(k) ? before.at(k) : json();
    const json& b = now.is_object() && now.contains(k) ? now.at(k) : json();
    if (a == b) continue;
    const Section* section = sectionOf(k);
    if (section && (a.is_array() || a.is_null()) && (b.is_array() || b.is_null())) {
      diffSection(*section, a.is_null() ? empty_array : a, b.is_null() ? empty_array : b, plan,
                  out);
    } else if (k == "steps" && (a.is_object() || b.is_object())) {
      // The canonical plan's [step.*] tables.
      std::set<std::string> names;
      for (const auto* side : {&a, &b}) {
        if (side->is_object()) {
          for (auto it = side->begin(); it != side->end(); ++it) names.insert(it.key());
        }
      }
      for (const auto& n : names) {
        const json& sa = a.is_object() && a.contains(n) ? a.at(n) : json();
        const json& sb = b.is_object() && b.contains(n) ? b.at(n) : json();
        if (sa.is_object() || sb.is_object()) {
          std::set<std::string> settings;
          for (const auto* side : {&sa, &sb}) {
            if (side->is_object()) {
              for (auto it = side->begin(); it != side->end(); ++it) settings.insert(it.key());
            }
          }
          for (const auto& s : settings) {
            diffSetting("[step." + n + "]", s, sa.is_object() && sa.contains(s) ? sa.at(s) : json(),
                        sb.is_object() && sb.contains(s) ? sb.at(s) : json(), out);
          }
        } else {
          diffSetting("[step." + n + "]", "", sa, sb, out);
        }
      }
    } else if (k == "migration") {
      diffSetting("[migration]", "name", a.is_object() ? a.value("name", json()) : json(),
                  b.is_object() ? b.value("name", json()) : json(), out);
    } else {
      diffSetting("[step." + step + "]", k, a, b, out);
    }
  }
  return out;
}

}  // namespace dbsplit::plan
