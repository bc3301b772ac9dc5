// Gates of the ownership step over a catalogue snapshot (see the header).
#include "steps/ownership/gates.h"

#include <map>
#include <set>

#include "fmt/format.h"
#include "nlohmann/json.hpp"
#include "util/text.h"

namespace dbsplit::steps::ownership {
namespace {

constexpr const char* kUnassigned = "unassigned";

struct Write {
  std::int64_t calls = 0;
  std::string statement;
};

std::string shortStatement(const std::string& s) {
  std::string flat;
  for (char c : s) flat += (c == '\n' || c == '\t') ? ' ' : c;
  return flat.size() <= 60 ? flat : flat.substr(0, 57) + "...";
}

std::string str(const nlohmann::json& a, const char* key) {
  auto it = a.find(key);
  return it != a.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::int64_t calls(const nlohmann::json& a) {
  auto it = a.find("calls");
  return it != a.end() && it->is_number() ? it->get<std::int64_t>() : 0;
}

engine::Gate nonOwnerWrites(const plan::Plan& plan, const nlohmann::json& accesses,
                            const std::string& where) {
  // (service, table, fingerprint) -> calls and one statement
  std::map<std::tuple<std::string, std::string, std::string>, Write> blocking;
  std::set<std::string> waived, unassigned;
  for (const auto& a : accesses) {
    if (str(a, "kind") != "write") continue;
    const std::string service = str(a, "service");
    const std::string table = str(a, "table");
    const plan::Table* owned = nullptr;
    for (const auto& t : plan.tables) {
      if (t.name.display() == table) owned = &t;
    }
    if (!owned || service == owned->owner) continue;
    if (service == kUnassigned || service.empty()) {
      unassigned.insert(
          fmt::format("{} by {}", table, str(a, "role").empty() ? "?" : str(a, "role")));
      continue;
    }
    bool is_waived = false;
    for (const auto& w : plan.waivers) {
      if (w.service == service && w.table.display() == table) is_waived = true;
    }
    if (is_waived) {
      waived.insert(fmt::format("{} writes {}", service, table));
      continue;
    }
    Write& w = blocking[{service, table, str(a, "fingerprint")}];
    w.calls += calls(a);
    if (w.statement.empty()) w.statement = str(a, "statement");
  }
  std::string flags;
  if (!waived.empty()) {
    flags += fmt::format("; waived: {}", util::join({waived.begin(), waived.end()}, ", "));
  }
  if (!unassigned.empty()) {
    flags += fmt::format("; written by roles of no service (they lose write access): {}",
                         util::join({unassigned.begin(), unassigned.end()}, ", "));
  }
  if (blocking.empty()) {
    return {"non_owner_writes", true,
            fmt::format("{}: no unwaived writes by non-owners{}", where, flags)};
  }
  std::vector<std::string> lines;
  for (const auto& [key, w] : blocking) {
    const auto& [service, table, fingerprint] = key;
    lines.push_back(fmt::format("{} writes {} (fingerprint {}, {} calls: {})", service, table,
                                fingerprint.empty() ? "?" : fingerprint, w.calls,
                                shortStatement(w.statement)));
  }
  return {"non_owner_writes", false,
          fmt::format("{}: {}; add a [[waiver]] with a reason, or stop these writes first{}", where,
                      util::join(lines, "; "), flags)};
}

engine::Gate undeclaredTables(const plan::Plan& plan, const nlohmann::json& accesses,
                              const std::string& where) {
  std::map<std::string, std::set<std::string>> services;
  for (const auto& a : accesses) {
    const std::string service = str(a, "service");
    if (service.empty() || service == kUnassigned) continue;
    services[str(a, "table")].insert(service);
  }
  std::vector<std::string> undeclared;
  for (const auto& [table, users] : services) {
    if (users.size() < 2) continue;
    bool declared = false;
    for (const auto& t : plan.tables) declared = declared || t.name.display() == table;
    if (!declared) {
      undeclared.push_back(
          fmt::format("{} (used by {})", table, util::join({users.begin(), users.end()}, ", ")));
    }
  }
  if (undeclared.empty()) {
    return {"undeclared_tables", true,
            fmt::format("{}: every table used by two or more services has an owner", where)};
  }
  return {"undeclared_tables", false,
          fmt::format("{}: shared but undeclared: {}; declare each with a [[table]] owner", where,
                      util::join(undeclared, "; "))};
}

engine::Gate sharedLoginRoles(const nlohmann::json& accesses, const std::string& where) {
  std::map<std::string, std::set<std::string>> services;
  for (const auto& a : accesses) {
    const std::string service = str(a, "service");
    const std::string role = str(a, "role");
    if (role.empty() || service.empty() || service == kUnassigned) continue;
    services[role].insert(service);
  }
  std::vector<std::string> shared;
  for (const auto& [role, users] : services) {
    if (users.size() > 1) {
      shared.push_back(
          fmt::format("{} acts for {}", role, util::join({users.begin(), users.end()}, " and ")));
    }
  }
  // Flagged, not blocking: after this step such a role writes as every owner
  // it belongs to, which the revoke step will have to sort out.
  return {"shared_login_roles", true,
          shared.empty() ? fmt::format("{}: no login role acts for two services", where)
                         : fmt::format("{}: FLAGGED: {}; give each service its own login role",
                                       where, util::join(shared, "; "))};
}

}  // namespace

std::vector<engine::Gate> catalogueGates(const plan::Plan& plan,
                                         const journal::SnapshotRecord* snapshot) {
  if (!snapshot) {
    const char* none =
        "no catalogue snapshot; run `dbsplit run catalogue` to check for non-owner writes";
    return {{"non_owner_writes", true, none},
            {"undeclared_tables", true, none},
            {"shared_login_roles", true, none}};
  }
  std::string where = fmt::format("catalogue snapshot #{} of {}", snapshot->id, snapshot->taken_at);
  nlohmann::json body = nlohmann::json::parse(snapshot->body, nullptr, false);
  if (body.is_discarded() || !body.is_object() || !body.contains("accesses") ||
      !body["accesses"].is_array()) {
    std::string bad =
        where + " has no readable \"accesses\" list; run `dbsplit run catalogue` again";
    return {{"non_owner_writes", false, bad}, {"undeclared_tables", false, bad}};
  }
  const nlohmann::json& accesses = body["accesses"];
  return {nonOwnerWrites(plan, accesses, where), undeclaredTables(plan, accesses, where),
          sharedLoginRoles(accesses, where)};
}

}  // namespace dbsplit::steps::ownership
