// Text and CSV output, and who owns what.
#include <algorithm>
#include <set>
#include <sstream>

#include "catalogue/render.h"
#include "catalogue/shared.h"
#include "fmt/format.h"
#include "plan/qualified_name.h"
#include "util/text.h"

namespace dbsplit::catalogue {

std::map<std::string, Ownership> ownership(const Snapshot& s, const plan::Plan* plan) {
  std::map<std::string, Ownership> out;
  for (const auto& a : s.accesses) {
    Ownership& o = out[a.table];
    if (a.kind == "write" && a.service != kUnassigned) o.writes[a.service] += a.calls;
  }
  for (auto& [table, o] : out) {
    if (plan) {
      for (const auto& t : plan->tables) {
        if (t.name.display() == table) {
          o.owner = t.owner;
          o.declared = true;
        }
      }
    }
    if (o.declared) continue;
    std::int64_t best = -1;
    for (const auto& [svc, calls] : o.writes) {
      if (calls > best) {
        best = calls;
        o.owner = svc;
        o.tie = false;
      } else if (calls == best) {
        o.tie = true;
      }
    }
  }
  return out;
}

namespace {

struct Row {
  std::string service, role, kind, via;
  std::set<std::string> columns;
  std::int64_t calls = 0;
};

std::string cols(const std::set<std::string>& c) {
  return c.empty() ? "(whole rows)"
                   : util::join(std::vector<std::string>(c.begin(), c.end()), ", ");
}

std::string csvField(const std::string& v) {
  if (v.find_first_of(",\"\n") == std::string::npos) return v;
  std::string out = "\"";
  for (char c : v) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

}  // namespace

std::string renderText(const Snapshot& s, const plan::Plan* plan) {
  std::ostringstream out;
  auto owners = ownership(s, plan);
  std::map<std::string,
           std::map<std::tuple<std::string, std::string, std::string, std::string>, Row>>
      by_table;
  for (const auto& a : s.accesses) {
    Row& r = by_table[a.table][{a.kind == "write" ? "0" : "1", a.service, a.role, a.via}];
    r.service = a.service;
    r.role = a.role;
    r.kind = a.kind;
    r.via = a.via;
    r.columns.insert(a.columns.begin(), a.columns.end());
    r.calls += a.calls;
  }
  int cross = 0;
  for (const auto& [table, rows] : by_table) {
    const Ownership& o = owners[table];
    std::string owner = o.owner.empty() ? "no writer seen"
                        : o.declared    ? "owner " + o.owner
                        : o.tie         ? "no clear owner (tie)"
                                        : "most writes by " + o.owner;
    out << table << "  (" << owner << ")\n";
    for (const auto& [k, r] : rows) {
      bool is_cross = !o.owner.empty() && r.service != o.owner;
      if (is_cross) ++cross;
      out << fmt::format("  {:<5}  {:<14} {:<16} {:>8} calls  {}{}{}\n", r.kind, r.service,
                         r.role.empty() ? "-" : r.role, r.calls, cols(r.columns),
                         r.via.empty() ? "" : "  via " + r.via,
                         is_cross ? "  << CROSS-SERVICE" : "");
    }
  }
  std::vector<SharedSurface> shared = sharedSurface(s, plan);
  if (!shared.empty()) {
    out << "\nshared views and functions (" << shared.size()
        << "): step 5 takes these reads away; decide for each with a [[view]] or [[function]]\n";
    for (const auto& o : shared) {
      std::vector<std::string> spans(o.spans.begin(), o.spans.end());
      std::vector<std::string> readers(o.readers.begin(), o.readers.end());
      out << fmt::format("  {:<8} {}  spans {}; read by {} ({} calls)\n", o.kind, o.name,
                         spans.empty() ? "no planned table" : util::join(spans, ", "),
                         util::join(readers, ", "), o.calls);
    }
  }
  if (!s.unresolved.empty()) {
    out << "\nunresolved statements (" << s.unresolved.size() << "):\n";
    for (const auto& u : s.unresolved) {
      std::string stmt = u.statement.size() > 100 ? u.statement.substr(0, 97) + "..." : u.statement;
      for (auto& c : stmt) {
        if (c == '\n' || c == '\t') c = ' ';
      }
      out << fmt::format("  {} ({} calls){}: {}\n      {}\n", u.reason, u.calls,
                         u.where.empty() ? "" : " at " + u.where, u.source, stmt);
    }
  }
  out << fmt::format(
      "\n{} table(s), {} access(es), {} cross-service; {} statement(s) in {} shape(s), "
      "{} unresolved, {} line(s) skipped\n",
      by_table.size(), s.accesses.size(), cross, s.stats.statements, s.stats.shapes,
      s.unresolved.size(), s.stats.skipped_lines);
  return out.str();
}

std::string renderCsv(const Snapshot& s) {
  std::ostringstream out;
  out << "service,role,table,kind,columns,calls,via,fingerprint,source\n";
  for (const auto& a : s.accesses) {
    out << csvField(a.service) << ',' << csvField(a.role) << ',' << csvField(a.table) << ','
        << a.kind << ','
        << csvField(util::join(std::vector<std::string>(a.columns.begin(), a.columns.end()), " "))
        << ',' << a.calls << ',' << csvField(a.via) << ',' << a.fingerprint << ','
        << csvField(a.source) << '\n';
  }
  return out.str();
}

std::string renderDelta(const Delta& d) {
  std::ostringstream out;
  out << "compared with the snapshot taken " << d.baseline_taken_at << "\n";
  auto list = [&](const char* title, const std::vector<DeltaEntry>& entries) {
    out << title << " (" << entries.size() << "):\n";
    for (const auto& e : entries) {
      out << fmt::format("  {:<5}  {:<14} {:<16} {}{}  calls {} -> {}\n", e.kind, e.service,
                         e.role.empty() ? "-" : e.role, e.table,
                         e.via.empty() ? "" : " via " + e.via, e.calls_before, e.calls_now);
    }
  };
  list("new accesses", d.added);
  list("stopped accesses (gone, or no call since)", d.stopped);
  list("continuing accesses", d.continuing);
  return out.str();
}

}  // namespace dbsplit::catalogue
