// Snapshot <-> JSON: the shape of DESIGN §4 plus extra keys (role, fingerprint,
// statement, application, source, skipped, stats) that readers may ignore.
#include "catalogue/model.h"
#include "fmt/format.h"
#include "util/error.h"

namespace dbsplit::catalogue {

using nlohmann::json;

namespace {
json nullIfEmpty(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }
std::string stringOr(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}
}  // namespace

json Snapshot::toJson() const {
  json acc = json::array();
  for (const auto& a : accesses) {
    acc.push_back({{"service", a.service},
                   {"role", a.role},
                   {"table", a.table},
                   {"kind", a.kind},
                   {"columns", std::vector<std::string>(a.columns.begin(), a.columns.end())},
                   {"calls", a.calls},
                   {"via", nullIfEmpty(a.via)},
                   {"fingerprint", a.fingerprint},
                   {"statement", a.statement},
                   {"application", nullIfEmpty(a.application)},
                   {"source", a.source}});
  }
  json unr = json::array();
  for (const auto& u : unresolved) {
    unr.push_back({{"statement", u.statement},
                   {"reason", u.reason},
                   {"calls", u.calls},
                   {"where", nullIfEmpty(u.where)},
                   {"source", u.source}});
  }
  json skip = json::array();
  for (const auto& s : skipped) skip.push_back({{"where", s.where}, {"reason", s.reason}});
  return {{"taken_at", taken_at},
          {"sources", sources},
          {"accesses", acc},
          {"unresolved", unr},
          {"skipped", skip},
          {"stats",
           {{"statements", stats.statements},
            {"calls", stats.calls},
            {"shapes", stats.shapes},
            {"parses", stats.parses},
            {"skipped_lines", stats.skipped_lines}}}};
}

Snapshot Snapshot::fromJson(const json& j) {
  if (!j.is_object() || !j.contains("accesses") || !j["accesses"].is_array()) {
    throw Error::drift("snapshot_corrupt", "a catalogue snapshot in the journal has no accesses",
                       "run `dbsplit run catalogue` again after rolling back the old one");
  }
  Snapshot s;
  s.taken_at = stringOr(j, "taken_at");
  if (j.contains("sources") && j["sources"].is_array()) {
    for (const auto& x : j["sources"]) {
      if (x.is_string()) s.sources.push_back(x.get<std::string>());
    }
  }
  for (const auto& x : j["accesses"]) {
    Access a;
    a.service = stringOr(x, "service");
    a.role = stringOr(x, "role");
    a.table = stringOr(x, "table");
    a.kind = stringOr(x, "kind");
    if (x.contains("columns") && x["columns"].is_array()) {
      for (const auto& c : x["columns"]) a.columns.insert(c.get<std::string>());
    }
    a.calls = x.value("calls", std::int64_t{0});
    a.via = stringOr(x, "via");
    a.fingerprint = stringOr(x, "fingerprint");
    a.statement = stringOr(x, "statement");
    a.application = stringOr(x, "application");
    a.source = stringOr(x, "source");
    s.accesses.push_back(std::move(a));
  }
  if (j.contains("unresolved") && j["unresolved"].is_array()) {
    for (const auto& x : j["unresolved"]) {
      s.unresolved.push_back({stringOr(x, "statement"), stringOr(x, "reason"),
                              x.value("calls", std::int64_t{0}), stringOr(x, "where"),
                              stringOr(x, "source")});
    }
  }
  if (j.contains("skipped") && j["skipped"].is_array()) {
    for (const auto& x : j["skipped"])
      s.skipped.push_back({stringOr(x, "where"), stringOr(x, "reason")});
  }
  if (j.contains("stats") && j["stats"].is_object()) {
    const json& st = j["stats"];
    s.stats.statements = st.value("statements", std::int64_t{0});
    s.stats.calls = st.value("calls", std::int64_t{0});
    s.stats.shapes = st.value("shapes", std::int64_t{0});
    s.stats.parses = st.value("parses", std::int64_t{0});
    s.stats.skipped_lines = st.value("skipped_lines", std::int64_t{0});
  }
  return s;
}

}  // namespace dbsplit::catalogue
