// The owned-data table (see the header).
#include "steps/ownership/table.h"

#include <map>

#include "fmt/format.h"
#include "util/text.h"

namespace dbsplit::steps::ownership {
namespace {

void addUnique(nlohmann::json& list, const std::string& v) {
  for (const auto& x : list) {
    if (x == v) return;
  }
  list.push_back(v);
}

// Markdown cells cannot hold a raw `|` or a line break.
std::string cell(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '|') {
      out += "\\|";
    } else if (c == '\n') {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

nlohmann::json ownedDataTable(const plan::Plan& plan, const journal::SnapshotRecord* snapshot) {
  std::map<std::string, std::string> owner_of;  // table display -> service
  for (const auto& t : plan.tables) owner_of[t.name.display()] = t.owner;
  // service -> consumer -> via
  std::map<std::string, std::map<std::string, nlohmann::json>> consumers;
  std::map<std::string, std::vector<std::string>> consumer_order;
  auto consume = [&](const std::string& owner, const std::string& consumer,
                     const std::string& via) {
    auto& by = consumers[owner];
    if (!by.count(consumer)) {
      by[consumer] = nlohmann::json::array();
      consumer_order[owner].push_back(consumer);
    }
    addUnique(by[consumer], via);
  };
  for (const auto& p : plan.projections) {
    auto it = owner_of.find(p.source.display());
    if (it == owner_of.end()) continue;
    consume(it->second, p.consumer, fmt::format("projection {} of {}", p.name, p.source.display()));
  }
  if (snapshot) {
    nlohmann::json body = nlohmann::json::parse(snapshot->body, nullptr, false);
    if (body.is_object() && body.contains("accesses") && body["accesses"].is_array()) {
      for (const auto& a : body["accesses"]) {
        if (!a.is_object() || a.value("kind", "") != "read") continue;
        auto it = owner_of.find(a.value("table", ""));
        std::string service = a.value("service", "");
        if (it == owner_of.end() || service == it->second || service.empty() ||
            service == "unassigned") {
          continue;
        }
        consume(it->second, service, "reads " + it->first + " directly");
      }
    }
  }
  nlohmann::json services = nlohmann::json::array();
  for (const auto& s : plan.services) {
    nlohmann::json tables = nlohmann::json::array();
    for (const auto& t : plan.tables) {
      if (t.owner == s.name) tables.push_back(t.name.display());
    }
    nlohmann::json cons = nlohmann::json::array();
    for (const auto& c : consumer_order[s.name]) {
      cons.push_back({{"service", c}, {"via", consumers[s.name][c]}});
    }
    nlohmann::json waived = nlohmann::json::array();
    for (const auto& w : plan.waivers) {
      auto it = owner_of.find(w.table.display());
      if (it != owner_of.end() && it->second == s.name) {
        waived.push_back(
            {{"service", w.service}, {"table", w.table.display()}, {"reason", w.reason}});
      }
    }
    services.push_back({{"service", s.name},
                        {"schema", s.name},
                        {"login_roles", s.roles},
                        {"tables", tables},
                        {"consumers", cons},
                        {"waived_writers", waived}});
  }
  return {{"services", services},
          {"snapshot", snapshot ? nlohmann::json(snapshot->id) : nlohmann::json(nullptr)}};
}

std::string ownedDataMarkdown(const nlohmann::json& table) {
  std::string out = "| Service | Tables | Consumers |\n|---|---|---|\n";
  for (const auto& s : table["services"]) {
    std::vector<std::string> tables;
    for (const auto& t : s["tables"]) tables.push_back(t.get<std::string>());
    std::vector<std::string> cons;
    for (const auto& c : s["consumers"]) {
      std::vector<std::string> via;
      for (const auto& v : c["via"]) via.push_back(v.get<std::string>());
      cons.push_back(
          fmt::format("{} ({})", c["service"].get<std::string>(), util::join(via, "; ")));
    }
    out += fmt::format("| {} | {} | {} |\n", cell(s["service"].get<std::string>()),
                       tables.empty() ? "--" : cell(util::join(tables, ", ")),
                       cons.empty() ? "--" : cell(util::join(cons, ", ")));
  }
  return out;
}

}  // namespace dbsplit::steps::ownership
