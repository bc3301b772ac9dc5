// The plan's canonical JSON and its hash. The journal stores the hash of the
// plan each step was applied with; a different hash later is drift (exit 6).
// So the form must change when the plan's meaning changes and only then:
// entry order, role order, quoting and defaults written out do not count, while
// column order does (it is the order of projection columns and keys).
// Connection strings are left out or redacted: the journal never holds passwords.
#include <algorithm>

#include "plan/plan.h"
#include "util/error.h"
#include "util/hash.h"
#include "util/text.h"
#include "util/time.h"

namespace dbsplit::plan {
namespace {

using nlohmann::json;

// Sorted copy: for lists whose order means nothing.
std::vector<std::string> sorted(std::vector<std::string> list) {
  std::sort(list.begin(), list.end());
  return list;
}

// Objects sorted by their dump so the order of entries in the file does not count.
json sortedArray(std::vector<json> items) {
  std::sort(items.begin(), items.end(),
            [](const json& a, const json& b) { return a.dump() < b.dump(); });
  return json(std::move(items));
}

json durationMillis(const std::string& text) {
  // "7d" and "168h" are the same window. A Plan built in code may hold text
  // loadPlan would reject; it is then kept as written.
  try {
    return util::parseDurationMillis(text, "deprecation_window");
  } catch (const Error&) {
    return text;
  }
}

json servicesJson(const Plan& plan) {
  std::vector<json> out;
  for (const auto& s : plan.services) {
    // The target database may carry a password; a rotated password is not a new plan.
    json j = {{"name", s.name},
              {"roles", sorted(s.roles)},
              {"database", util::redactSecrets(s.database)}};
    // Only when set: plans without it keep their hash.
    if (!s.pgbouncer_pool.empty()) j["pgbouncer_pool"] = s.pgbouncer_pool;
    out.push_back(std::move(j));
  }
  return sortedArray(std::move(out));
}

json eventsJson(const Plan& plan) {
  std::vector<json> out;
  for (const auto& e : plan.events) {
    std::vector<std::string> operations;
    for (const char* op : {"insert", "update", "delete"}) {
      if (std::find(e.operations.begin(), e.operations.end(), op) != e.operations.end()) {
        operations.push_back(op);
      }
    }
    out.push_back({{"table", e.table.quoted()},
                   {"aggregate_type", e.aggregate_type},
                   {"aggregate_id", e.aggregate_id},
                   {"columns", e.columns},
                   {"exclude", sorted(e.exclude)},
                   {"operations", operations},
                   {"truncate", e.publish_truncate ? "publish" : "refuse"}});
  }
  return sortedArray(std::move(out));
}

json stepsJson(const Plan& plan) {
  std::vector<std::string> kinds = sorted(plan.selftest.kinds);
  if (kinds.empty()) kinds = sorted({"schema", "comment", "column", "index"});  // empty = all
  json revoke = {{"deprecation_window_ms", durationMillis(plan.revoke.deprecation_window)},
                 {"require_compare", plan.revoke.require_compare},
                 {"mode", plan.revoke.mode}};
  // Only when set, so that plans written before the key keep their hash.
  if (plan.revoke.acknowledge_idle_window) revoke["acknowledge_idle_window"] = true;
  return {{"revoke", revoke},
          {"split",
           {{"mode", plan.split.mode},
            {"allow_unqualified", plan.split.allow_unqualified},
            {"on_cutover", plan.split.on_cutover},
            {"pgbouncer", util::redactSecrets(plan.split.pgbouncer)}}},
          {"selftest", {{"kinds", kinds}}}};
}

json tablesJson(const Plan& plan) {
  std::vector<json> out;
  for (const auto& t : plan.tables) out.push_back({{"name", t.name.quoted()}, {"owner", t.owner}});
  return sortedArray(std::move(out));
}

json projectionsJson(const Plan& plan) {
  std::vector<json> out;
  for (const auto& p : plan.projections) {
    out.push_back({{"consumer", p.consumer},
                   {"source", p.source.quoted()},
                   {"name", p.name},
                   {"columns", p.columns},
                   {"key", p.key}});
  }
  return sortedArray(std::move(out));
}

json waiversJson(const Plan& plan) {
  std::vector<json> out;
  for (const auto& w : plan.waivers) {
    json entry = {{"service", w.service}, {"table", w.table.quoted()}, {"reason", w.reason}};
    // Only when listed, so that plans written before the key keep their hash.
    if (!w.columns.empty()) entry["columns"] = sorted(w.columns);
    out.push_back(std::move(entry));
  }
  return sortedArray(std::move(out));
}

json sharedJson(const Plan& plan) {
  std::vector<json> out;
  for (const auto& o : plan.shared) {
    out.push_back({{"kind", o.kind},
                   {"name", o.name.quoted()},
                   {"decision", o.decision},
                   {"service", o.service},
                   {"query", o.query},
                   {"reason", o.reason}});
  }
  return sortedArray(std::move(out));
}

}  // namespace

json Plan::canonical() const {
  // migration.database and the journal path are deliberately absent (see top).
  json out = {{"migration", {{"name", migration.name}}},
              {"services", servicesJson(*this)},
              {"tables", tablesJson(*this)},
              {"events", eventsJson(*this)},
              {"projections", projectionsJson(*this)},
              {"waivers", waiversJson(*this)},
              {"steps", stepsJson(*this)}};
  // Only when there are any, so that plans written before them keep their hash.
  if (!shared.empty()) out["shared"] = sharedJson(*this);
  return out;
}

std::string Plan::hash() const { return util::sha256Hex(canonical().dump()); }

}  // namespace dbsplit::plan
