// The report's "After" graph: the target architecture the plan describes, not
// the traffic of today. One box per service holding, under the service's schema
// (where step 6 moves them), the tables it owns, its outbox and the projections
// it keeps; owners' tables feed their outbox, outboxes feed the consumers'
// projections, and every access still made to another service's table is a
// red edge.
#include <map>
#include <set>
#include <sstream>
#include <tuple>

#include "fmt/format.h"
#include "report/report.h"

namespace dbsplit::report {
namespace {

// A DOT string; a newline in `s` becomes a line break of the label.
std::string q(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string tableId(const std::string& display) { return "t:" + display; }

}  // namespace

std::string targetDot(const plan::Plan& plan, const catalogue::Snapshot* after) {
  std::map<std::string, std::string> owner_of;  // table (display) -> service
  for (const auto& t : plan.tables) owner_of[t.name.display()] = t.owner;
  std::ostringstream out;
  out << "digraph after {\n"
         "  rankdir=LR; newrank=true; nodesep=0.12; ranksep=0.5; compound=true;\n"
         "  node [fontname=\"Helvetica\", fontsize=12, height=0.3];\n"
         "  edge [fontname=\"Helvetica\", fontsize=10, arrowsize=0.6];\n";
  for (const auto& s : plan.services) {
    out << "  subgraph " << q("cluster_" + s.name) << " {\n"
        << "    label=" << q(fmt::format("{} (schema {})", s.name, s.name))
        << "; style=rounded; color=\"#8c959f\"; fontname=\"Helvetica\"; fontsize=14;\n"
        << "    " << q("s:" + s.name) << " [label=" << q(s.name + " service")
        << ", shape=box, style=\"rounded,filled\", fillcolor=\"#ddf4ff\"];\n";
    for (const auto& t : plan.tables) {
      if (t.owner != s.name) continue;
      // After step 6 the table lives in its owner's schema.
      std::string label = s.name + "." + t.name.name;
      if (t.name.schema != s.name) label += "\n(today " + t.name.display() + ")";
      out << "    " << q(tableId(t.name.display())) << " [label=" << q(label)
          << ", shape=cylinder];\n";
    }
    bool publishes = false;
    for (const auto& e : plan.events) {
      auto o = owner_of.find(e.table.display());
      publishes = publishes || (o != owner_of.end() && o->second == s.name);
    }
    if (publishes) {
      out << "    " << q("o:" + s.name) << " [label=" << q(s.name + ".outbox")
          << ", shape=box3d, style=filled, fillcolor=\"#fff8c5\"];\n";
    }
    for (const auto& p : plan.projections) {
      if (p.consumer != s.name) continue;
      out << "    " << q("p:" + s.name + "." + p.name)
          << " [label=" << q(s.name + "." + p.name + "\nfrom " + p.source.display())
          << ", shape=cylinder, style=filled, fillcolor=\"#dafbe1\"];\n";
    }
    out << "  }\n";
  }
  // Tables the catalogue saw that the plan gives to no service.
  std::set<std::string> unowned;
  // What the catalogue still sees, summed per service, table and kind.
  std::map<std::tuple<std::string, std::string, std::string>, std::int64_t> direct;
  if (after) {
    for (const auto& a : after->accesses) {
      auto o = owner_of.find(a.table);
      if (o != owner_of.end() && o->second == a.service) continue;
      if (!plan.findService(a.service)) continue;
      if (o == owner_of.end()) unowned.insert(a.table);
      direct[{a.service, a.table, a.kind}] += a.calls;
    }
  }
  for (const auto& t : unowned) {
    out << "  " << q(tableId(t)) << " [label=" << q(t + "\n(no owner in the plan)")
        << ", shape=cylinder, color=red];\n";
  }
  for (const auto& e : plan.events) {
    auto o = owner_of.find(e.table.display());
    if (o == owner_of.end()) continue;
    out << "  " << q(tableId(e.table.display())) << " -> " << q("o:" + o->second)
        << " [color=\"#9a6700\", tooltip=" << q(e.aggregate_type + " events") << "];\n";
  }
  for (const auto& p : plan.projections) {
    auto o = owner_of.find(p.source.display());
    if (o == owner_of.end()) continue;
    out << "  " << q("o:" + o->second) << " -> " << q("p:" + p.consumer + "." + p.name)
        << " [color=\"#1a7f37\", tooltip=" << q("relay: " + p.source.display()) << "];\n";
    out << "  " << q("p:" + p.consumer + "." + p.name) << " -> " << q("s:" + p.consumer)
        << " [style=dashed, color=\"#8c959f\", arrowhead=none, constraint=false];\n";
  }
  for (const auto& [key, calls] : direct) {
    const auto& [service, table, kind] = key;
    std::string label = fmt::format("{} {} (direct)", kind == "write" ? "writes" : "reads", calls);
    out << "  " << q("s:" + service) << " -> " << q(tableId(table))
        << " [color=red, fontcolor=red, "
        << "penwidth=2, constraint=false, label=" << q(label) << "];\n";
  }
  out << "}\n";
  return out.str();
}

}  // namespace dbsplit::report
