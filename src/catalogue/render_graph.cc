// Graphs (Mermaid, Graphviz) of services and the tables they share, and the
// draft plan section of `--propose`.
#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <sstream>

#include "catalogue/render.h"
#include "fmt/format.h"
#include "nlohmann/json.hpp"
#include "util/text.h"

namespace dbsplit::catalogue {
namespace {

struct Edge {
  std::string service, table, kind;
  std::int64_t calls = 0;
};

// Edges per (service, table, kind), limited to tables used by two or more
// services (all tables when none is shared): the shared surface is the point.
std::vector<Edge> edges(const Snapshot& s) {
  std::map<std::tuple<std::string, std::string, std::string>, std::int64_t> calls;
  std::map<std::string, std::set<std::string>> services_of;
  for (const auto& a : s.accesses) {
    calls[{a.service, a.table, a.kind}] += a.calls;
    services_of[a.table].insert(a.service);
  }
  bool any_shared = false;
  for (const auto& [t, svcs] : services_of) any_shared = any_shared || svcs.size() > 1;
  std::vector<Edge> out;
  for (const auto& [k, c] : calls) {
    if (any_shared && services_of[std::get<1>(k)].size() < 2) continue;
    out.push_back({std::get<0>(k), std::get<1>(k), std::get<2>(k), c});
  }
  return out;
}

std::string mermaidLabel(const std::string& s) {
  std::string out;
  for (char c : s) out += c == '"' ? std::string("#quot;") : std::string(1, c);
  return out;
}

std::string dotString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string roleToService(const std::string& role) {
  std::string out;
  for (char c : role) {
    char l = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    bool ok = (l >= 'a' && l <= 'z') || (l >= '0' && l <= '9') || l == '_' || l == '-';
    out += ok ? l : '_';
  }
  return out.empty() ? "service" : out;
}

std::string tomlString(const std::string& s) { return nlohmann::json(s).dump(); }

// "schema.name" -> the plan's spelling: bare when both parts are plain, else quoted.
std::string planTableName(const std::string& display) {
  size_t dot = display.find('.');
  std::string schema = display.substr(0, dot), name = display.substr(dot + 1);
  auto plain = [](const std::string& p) {
    if (p.empty() || (p[0] >= '0' && p[0] <= '9')) return false;
    for (char c : p) {
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
    }
    return true;
  };
  auto quote = [&](const std::string& p) {
    if (plain(p)) return p;
    std::string out = "\"";
    for (char c : p) out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
  };
  return quote(schema) + "." + quote(name);
}

}  // namespace

std::string renderMermaid(const Snapshot& s, const plan::Plan* plan) {
  auto owners = ownership(s, plan);
  std::ostringstream out;
  out << "graph LR\n";
  std::map<std::string, std::string> ids;
  auto node = [&](const std::string& key, const std::string& label, bool table) {
    auto it = ids.find(key);
    if (it != ids.end()) return it->second;
    std::string id = (table ? "t" : "s") + std::to_string(ids.size());
    ids[key] = id;
    out << "  " << id << (table ? "[(\"" : "([\"") << mermaidLabel(label)
        << (table ? "\")]\n" : "\"])\n");
    return id;
  };
  std::vector<int> cross;
  int n = 0;
  for (const auto& e : edges(s)) {
    std::string sid = node("s:" + e.service, e.service, false);
    std::string tid = node("t:" + e.table, e.table, true);
    if (e.kind == "write") {
      out << "  " << sid << " -- \"writes " << e.calls << "\" --> " << tid << "\n";
    } else {
      out << "  " << tid << " -. \"read " << e.calls << "\" .-> " << sid << "\n";
    }
    const Ownership& o = owners[e.table];
    if (!o.owner.empty() && e.service != o.owner) cross.push_back(n);
    ++n;
  }
  for (int i : cross) out << "  linkStyle " << i << " stroke:#d33,stroke-width:3px\n";
  return out.str();
}

std::string renderDot(const Snapshot& s, const plan::Plan* plan) {
  auto owners = ownership(s, plan);
  std::ostringstream out;
  out << "digraph catalogue {\n  rankdir=LR;\n  node [fontname=\"Helvetica\"];\n";
  std::set<std::string> done;
  for (const auto& e : edges(s)) {
    if (done.insert("s:" + e.service).second) {
      out << "  " << dotString("s:" + e.service) << " [label=" << dotString(e.service)
          << ", shape=box, style=rounded];\n";
    }
    if (done.insert("t:" + e.table).second) {
      out << "  " << dotString("t:" + e.table) << " [label=" << dotString(e.table)
          << ", shape=cylinder];\n";
    }
    const Ownership& o = owners[e.table];
    bool is_cross = !o.owner.empty() && e.service != o.owner;
    std::string style = is_cross ? ", color=red, penwidth=2" : "";
    if (e.kind == "write") {
      out << "  " << dotString("s:" + e.service) << " -> " << dotString("t:" + e.table)
          << " [label=" << dotString(fmt::format("writes {}", e.calls)) << style << "];\n";
    } else {
      out << "  " << dotString("t:" + e.table) << " -> " << dotString("s:" + e.service)
          << " [label=" << dotString(fmt::format("read {}", e.calls)) << ", style=dashed" << style
          << "];\n";
    }
  }
  out << "}\n";
  return out.str();
}

namespace {

// What one service did to one table, for a person choosing its owner: rows
// created or removed (INSERT, DELETE, COPY, MERGE) weigh more than updates of
// a column or two, however many.
struct WriterEvidence {
  std::map<std::string, std::int64_t> calls_by_verb;  // "INSERT" -> calls
  std::set<std::string> updated;                      // columns its UPDATEs set
  std::int64_t reads = 0;

  std::int64_t rowWrites() const {
    std::int64_t n = 0;
    for (const auto& [verb, calls] : calls_by_verb) n += verb == "UPDATE" ? 0 : calls;
    return n;
  }
  std::int64_t writes() const {
    std::int64_t n = 0;
    for (const auto& [verb, calls] : calls_by_verb) n += calls;
    return n;
  }
  std::string describe() const {
    std::vector<std::string> parts;
    for (const auto& [verb, calls] : calls_by_verb) {
      std::string part = fmt::format("{} {}", calls, verb);
      if (verb == "UPDATE" && !updated.empty()) {
        part +=
            " (" + util::join(std::vector<std::string>(updated.begin(), updated.end()), ", ") + ")";
      }
      parts.push_back(part);
    }
    if (reads) parts.push_back(fmt::format("reads {}", reads));
    return util::join(parts, ", ");
  }
};

// The statement's own verb: the first INSERT, UPDATE, DELETE, MERGE, COPY or
// SELECT outside parentheses (after a WITH list, the main statement's). A
// write in a CTE is then called by the main statement's verb: close enough for
// evidence, which only weighs row writes against updates.
std::string verbOf(const std::string& statement) {
  int depth = 0;
  std::string word;
  auto verb = [](std::string w) -> std::string {
    for (auto& c : w) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    for (const char* v : {"INSERT", "UPDATE", "DELETE", "MERGE", "COPY", "SELECT"}) {
      if (w == v) return w;
    }
    return {};
  };
  for (size_t i = 0; i <= statement.size(); ++i) {
    const char c = i < statement.size() ? statement[i] : ' ';
    if (std::isalpha(static_cast<unsigned char>(c))) {
      word += c;
      continue;
    }
    if (depth == 0 && !word.empty()) {
      std::string v = verb(word);
      // SELECT ... FOR UPDATE writes nothing: it locks rows as an update does.
      if (!v.empty()) return v == "SELECT" ? "UPDATE" : v;
    }
    word.clear();
    if (c == '(') ++depth;
    if (c == ')' && depth > 0) --depth;
  }
  return "UPDATE";
}

std::string tomlList(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + tomlString(items[i]);
  return out + "]";
}

// The relation's name without its schema, for a projection's name.
std::string relname(const std::string& table) {
  auto dot = table.find('.');
  return dot == std::string::npos ? table : table.substr(dot + 1);
}

// The part of the draft that follows from traffic between services: an
// [[event]] for every table another service reads, a [[projection]] per reader
// and table with the columns it read plus the key (exactly what step 5's
// compare_clean gate asks for: a projection of every table a consumer reads),
// and commented [[waiver]] stubs for writes by a service that does not own
// the table (step 2's non_owner_writes gate stops on them until decided).
void renderTraffic(const Snapshot& s, const std::map<std::string, std::string>& owner_of,
                   std::map<std::string, std::map<std::string, WriterEvidence>>& evidence,
                   const std::map<std::string, std::vector<std::string>>& primary_keys,
                   std::ostringstream& out) {
  std::map<std::string, std::map<std::string, std::set<std::string>>> reads;  // table -> reader
  std::map<std::string, std::map<std::string, std::int64_t>> read_calls;
  std::map<std::string, std::set<std::string>> foreign_writers;  // table -> services
  for (const auto& a : s.accesses) {
    auto owner = owner_of.find(a.table);
    if (a.service == kUnassigned || owner == owner_of.end() || a.service == owner->second) continue;
    if (a.kind == "read") {
      reads[a.table][a.service].insert(a.columns.begin(), a.columns.end());
      read_calls[a.table][a.service] += a.calls;
    } else {
      foreign_writers[a.table].insert(a.service);
    }
  }
  auto keyOf = [&](const std::string& table) -> const std::vector<std::string>* {
    auto k = primary_keys.find(table);
    return k == primary_keys.end() || k->second.empty() ? nullptr : &k->second;
  };
  if (!reads.empty()) {
    out << "\n# Events (step 3): the owner publishes each table another service reads.\n";
  }
  for (const auto& [table, readers] : reads) {
    std::vector<std::string> names;
    for (const auto& [svc, cols] : readers) names.push_back(svc);
    out << "\n# " << table << " (owner " << owner_of.at(table) << ") is read by "
        << util::join(names, ", ") << "\n";
    const char* c = keyOf(table) ? "" : "# ";
    if (!keyOf(table)) {
      out << "# DECIDE: " << table << " has no primary key: events and projections need one; "
          << "add it, or set aggregate_id and the projections' key.\n";
    }
    out << c << "[[event]]\n"
        << c << "table = " << tomlString(planTableName(table)) << "\n"
        << c << "aggregate_type = " << tomlString(relname(table)) << "\n";
  }
  if (!reads.empty()) {
    out << "\n# Projections (step 4): per reader and table, the columns it was seen reading\n"
        << "# plus the key.\n";
  }
  // Names in each consumer's schema: after step 6 its own tables live there too.
  std::map<std::string, std::set<std::string>> names_taken;
  for (const auto& [table, owner] : owner_of) names_taken[owner].insert(relname(table));
  for (const auto& [table, readers] : reads) {
    for (const auto& [svc, cols] : readers) {
      const std::vector<std::string>* key = keyOf(table);
      std::vector<std::string> columns = key ? *key : std::vector<std::string>{};
      for (const auto& col : cols) {
        if (std::find(columns.begin(), columns.end(), col) == columns.end()) columns.push_back(col);
      }
      std::string name = relname(table);
      if (!names_taken[svc].insert(name).second) {
        name = table;
        std::replace(name.begin(), name.end(), '.', '_');
        names_taken[svc].insert(name);
      }
      const char* c = key ? "" : "# ";
      out << "\n# " << svc << " reads " << table << " (" << read_calls[table][svc] << " calls): "
          << (cols.empty() ? std::string("no column named")
                           : util::join(std::vector<std::string>(cols.begin(), cols.end()), ", "))
          << "\n"
          << c << "[[projection]]\n"
          << c << "consumer = " << tomlString(svc) << "\n"
          << c << "source = " << tomlString(planTableName(table)) << "\n"
          << c << "name = " << tomlString(name) << "\n"
          << c << "columns = " << tomlList(columns) << "\n"
          << c << "key = " << tomlList(key ? *key : std::vector<std::string>{}) << "\n";
    }
  }
  if (!foreign_writers.empty()) {
    out << "\n# Writes by services that do not own the table (step 2 stops on them): move\n"
        << "# each to the owner's API, or accept it for now with a [[waiver]] and a reason.\n";
  }
  for (const auto& [table, writers] : foreign_writers) {
    for (const auto& svc : writers) {
      const WriterEvidence& e = evidence[table][svc];
      out << "\n# DECIDE: " << svc << " writes " << table << ", owned by " << owner_of.at(table)
          << ": " << e.describe() << "\n"
          << "# [[waiver]]\n# service = " << tomlString(svc)
          << "\n# table = " << tomlString(planTableName(table)) << "\n# reason = \"\"\n";
      // Only UPDATEs seen: the waiver can be narrowed to their columns.
      if (e.rowWrites() == 0 && !e.updated.empty()) {
        out << "# columns = "
            << tomlList(std::vector<std::string>(e.updated.begin(), e.updated.end())) << "\n";
      }
    }
  }
}

}  // namespace

std::string renderProposal(const Snapshot& snapshot, const plan::Plan* plan,
                           const std::map<std::string, std::vector<std::string>>& primary_keys) {
  Snapshot s = snapshot;
  // Without a plan every role becomes a service of its own, named after it.
  std::map<std::string, std::set<std::string>> roles_of;  // service -> roles
  std::set<std::string> unassigned_roles;
  if (plan) {
    for (const auto& svc : plan->services) {
      roles_of[svc.name].insert(svc.roles.begin(), svc.roles.end());
    }
    for (const auto& a : s.accesses) {
      if (a.service == kUnassigned && !a.role.empty()) unassigned_roles.insert(a.role);
    }
  } else {
    std::map<std::string, std::string> names;
    for (auto& a : s.accesses) {
      if (a.role.empty()) continue;
      auto it = names.find(a.role);
      if (it == names.end()) {
        std::string base = roleToService(a.role), name = base;
        for (int i = 2; roles_of.count(name); ++i) name = base + "_" + std::to_string(i);
        it = names.emplace(a.role, name).first;
        roles_of[name].insert(a.role);
      }
      a.service = it->second;
    }
  }
  std::ostringstream out;
  out << "# Draft ownership proposed by `dbsplit catalogue --propose` from " << s.stats.statements
      << " statement(s).\n"
      << "# The most frequent writer owns each table; review every DECIDE line.\n"
      << "# Each table another service reads gets an [[event]] and, per reader, a\n"
      << "# [[projection]] of the columns it was seen reading plus the key; writes by\n"
      << "# a service that does not own the table are commented [[waiver]] stubs.\n\n"
      << "[migration]\nname = " << tomlString(plan ? plan->migration.name : "draft") << "\n";
  if (plan && !plan->migration.database.empty()) {
    out << "database = " << tomlString(util::redactSecrets(plan->migration.database)) << "\n";
  }
  for (const auto& [name, roles] : roles_of) {
    out << "\n[[service]]\nname = " << tomlString(name) << "\nroles = [";
    bool first = true;
    for (const auto& r : roles) {
      out << (first ? "" : ", ") << tomlString(r);
      first = false;
    }
    out << "]\n";
  }
  if (plan && !plan->catalogue.sources.empty()) {
    out << "\n[step.catalogue]\nsources = [";
    for (size_t i = 0; i < plan->catalogue.sources.size(); ++i) {
      out << (i ? ", " : "") << tomlString(plan->catalogue.sources[i]);
    }
    out << "]\n";
  }
  for (const auto& r : unassigned_roles) {
    out << "# DECIDE: role " << tomlString(r) << " belongs to no service; add it to one.\n";
  }
  std::map<std::string, std::set<std::string>> readers;
  std::map<std::string, std::map<std::string, WriterEvidence>> evidence;  // table -> service
  for (const auto& a : s.accesses) {
    if (a.kind == "read") {
      readers[a.table].insert(a.service);
      evidence[a.table][a.service].reads += a.calls;
      continue;
    }
    if (a.service == kUnassigned) continue;
    WriterEvidence& e = evidence[a.table][a.service];
    const std::string verb = verbOf(a.statement);
    e.calls_by_verb[verb] += a.calls;
    if (verb == "UPDATE") e.updated.insert(a.columns.begin(), a.columns.end());
  }
  std::map<std::string, std::string> owner_of;  // table -> owner drafted above
  for (auto [table, o] : ownership(s, plan)) {
    // Among several writers, the one that creates and removes rows is the
    // likelier owner than the one with the most calls: the choice is the
    // person's (DECIDE), with each candidate's evidence.
    std::vector<std::pair<std::string, const WriterEvidence*>> candidates;
    for (const auto& [svc, e] : evidence[table]) {
      if (e.writes() > 0) candidates.emplace_back(svc, &e);
    }
    if (!o.declared && candidates.size() > 1) {
      auto best = std::max_element(candidates.begin(), candidates.end(), [](auto& a, auto& b) {
        return std::make_pair(a.second->rowWrites(), a.second->writes()) <
               std::make_pair(b.second->rowWrites(), b.second->writes());
      });
      o.owner = best->first;
      auto weight = [](const WriterEvidence* e) {
        return std::make_pair(e->rowWrites(), e->writes());
      };
      o.tie = std::count_if(candidates.begin(), candidates.end(),
                            [&](auto& c) { return weight(c.second) == weight(best->second); }) > 1;
    }
    std::vector<std::string> writers;
    for (const auto& [svc, calls] : o.writes) writers.push_back(fmt::format("{} ({})", svc, calls));
    std::vector<std::string> rd(readers[table].begin(), readers[table].end());
    out << "\n# " << table << ": writers " << (writers.empty() ? "none" : util::join(writers, ", "))
        << "; readers " << (rd.empty() ? "none" : util::join(rd, ", ")) << "\n";
    if (o.owner.empty() || o.owner == kUnassigned) {
      out << "# DECIDE: no service writes it; choose an owner.\n# [[table]]\n# name = "
          << tomlString(planTableName(table)) << "\n# owner = \"\"\n";
      continue;
    }
    if (o.declared) out << "# owner declared in the plan\n";
    if (o.tie) out << "# DECIDE: several services write it equally often.\n";
    if (!o.declared && candidates.size() > 1) {
      out << "# DECIDE: " << candidates.size()
          << " services write it; proposed: the one that creates and removes rows, not the "
             "one with the most calls. Evidence:\n";
      for (const auto& [svc, e] : candidates) out << "#   " << svc << ": " << e->describe() << "\n";
    }
    out << "[[table]]\nname = " << tomlString(planTableName(table))
        << "\nowner = " << tomlString(o.owner) << "\n";
    owner_of[table] = o.owner;
  }
  renderTraffic(s, owner_of, evidence, primary_keys, out);
  return out.str();
}

}  // namespace dbsplit::catalogue
