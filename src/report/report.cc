#include "report/report.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <regex>
#include <set>

#include "catalogue/render.h"
#include "fmt/format.h"
#include "util/process.h"
#include "util/text.h"

namespace dbsplit::report {

std::string escapeHtml(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string dotToSvg(const std::string& dot) {
  char path[] = "/tmp/dbsplit-report-XXXXXX";
  int fd = ::mkstemp(path);
  if (fd < 0) return {};
  ::close(fd);
  std::ofstream(path) << dot;
  std::string svg;
  try {
    util::ProcessResult r = util::runProcessStdout({"dot", "-Tsvg", path});
    if (r.exit_code == 0) svg = r.output;
  } catch (const std::exception&) {
    svg.clear();  // Graphviz is optional
  }
  ::unlink(path);
  size_t at = svg.find("<svg");
  if (at == std::string::npos) return {};
  svg = svg.substr(at);
  // Inline SVG in HTML needs no namespace; dropping the URLs keeps the page
  // free of any http reference.
  svg = std::regex_replace(svg, std::regex(R"( xmlns(:xlink)?="[^"]*")"), "");
  svg = std::regex_replace(svg, std::regex(R"(<!--[\s\S]*?-->)"), "");
  // Scale to the page: the viewBox keeps the proportions.
  size_t end = svg.find('>');
  std::string head = svg.substr(0, end);
  head = std::regex_replace(head, std::regex(R"( (width|height)="[^"]*")"), "");
  svg = head + " style=\"width:100%;height:auto\"" + svg.substr(end);
  return svg;
}

namespace {

const char* kStyle = R"(
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2em auto;
       max-width: 72em; color: #222; padding: 0 1em; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; margin-top: 2em; }
table { border-collapse: collapse; margin: .5em 0; }
th, td { border: 1px solid #ddd; padding: .25em .6em; text-align: left; vertical-align: top;
         font-size: .9em; }
th { background: #f4f4f4; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.applied { color: #1a7f37; font-weight: 600; } .failed { color: #cf222e; font-weight: 600; }
.pending, .rolled_back { color: #777; }
.graphs { display: flex; flex-wrap: wrap; gap: 2em; }
.graphs > div { flex: 1 1 100%; overflow: auto; }
pre { background: #f6f8fa; padding: .6em; overflow: auto; font-size: .8em; }
.bar { display: inline-block; height: .8em; background: #4c8eda; vertical-align: middle; }
details summary { cursor: pointer; }
)";

std::string statusClass(const std::string& s) {
  std::string out;
  for (char c : s) out += (c == ' ' ? '_' : c);
  return out;
}

// `html` with the graph drawn as SVG, or, without Graphviz, its DOT text and how to draw it.
std::string withGraph(const std::string& html, const std::string& dot,
                      const std::function<std::string(const std::string&)>& dot_to_svg) {
  std::string svg = dot_to_svg ? dot_to_svg(dot) : std::string();
  if (!svg.empty()) return html + svg + "</div>";
  return html +
         "<p>Graphviz <code>dot</code> is not installed: the graph in DOT form "
         "(<code>apt-get install graphviz</code>, or paste it into any DOT viewer).</p><pre>" +
         escapeHtml(dot) + "</pre></div>";
}

std::string graph(const std::optional<catalogue::Snapshot>& snap, const plan::Plan& plan,
                  const std::string& title, const std::string& note,
                  const std::function<std::string(const std::string&)>& dot_to_svg) {
  std::string html = "<div><h3>" + escapeHtml(title) + "</h3>";
  if (!note.empty()) html += "<p>" + escapeHtml(note) + "</p>";
  if (!snap) return html + "<p>No catalogue snapshot.</p></div>";
  if (snap->accesses.empty()) return html + "<p>No table access recorded.</p></div>";
  std::string dot = catalogue::renderDot(*snap, &plan);
  return withGraph(html, dot, dot_to_svg);
}

std::string afterGraph(const ReportInputs& in,
                       const std::function<std::string(const std::string&)>& dot_to_svg) {
  std::string html =
      "<div><h3>After</h3><p>The target: each service's tables under its own schema, "
      "owners' outboxes feeding the consumers' projections, and in red the accesses still "
      "made directly to another service's table. " +
      escapeHtml(in.after_note) + "</p>";
  if (in.plan.tables.empty()) return html + "<p>The plan declares no table yet.</p></div>";
  std::string dot = targetDot(in.plan, in.after ? &*in.after : nullptr);
  return withGraph(html, dot, dot_to_svg);
}

std::string ownedData(const plan::Plan& plan) {
  std::string h =
      "<table><tr><th>Service</th><th>Roles</th><th>Owned tables</th><th>Publishes "
      "(events)</th><th>Consumes (projections)</th><th>Target database</th></tr>";
  for (const auto& s : plan.services) {
    std::vector<std::string> owned, events, consumes;
    for (const auto& t : plan.tables) {
      if (t.owner != s.name) continue;
      owned.push_back(t.name.display());
      for (const auto& e : plan.events) {
        if (e.table == t.name) events.push_back(e.aggregate_type + " (" + t.name.display() + ")");
      }
    }
    for (const auto& p : plan.projections) {
      if (p.consumer == s.name) {
        consumes.push_back(escapeHtml(s.name + "." + p.name) + " &larr; " +
                           escapeHtml(p.source.display()));
      }
    }
    auto esc = [](std::vector<std::string> v) {
      for (auto& x : v) x = escapeHtml(x);
      return util::join(v, "<br>");
    };
    h += fmt::format(
        "<tr><td><b>{}</b></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        escapeHtml(s.name), esc(s.roles), esc(owned), esc(events), util::join(consumes, "<br>"),
        s.database.empty() ? "&mdash;" : "(set)");
  }
  return h + "</table>";
}

std::string timeline(const std::vector<StepTimeline>& steps) {
  if (steps.empty()) return "<p>No step has run yet (the journal is empty).</p>";
  std::string h;
  for (const auto& st : steps) {
    std::int64_t total_ms = 0, max_ms = 1;
    for (const auto& a : st.actions) {
      total_ms += a.duration_ms;
      max_ms = std::max<std::int64_t>(max_ms, a.duration_ms);
    }
    std::string status = journal::toString(st.step.status);
    h += fmt::format(
        "<h3 id=\"step-{0}\">{0} <span class=\"{1}\">{2}</span></h3>"
        "<p>{3}/{4} actions applied, {5} ms in actions; updated {6}{7}</p>",
        escapeHtml(st.step.name), statusClass(status), escapeHtml(status), st.step.actions_applied,
        st.step.actions_total, total_ms, escapeHtml(st.step.updated_at),
        st.step.error.empty() ? "" : "; error: " + escapeHtml(st.step.error));
    if (st.actions.empty()) continue;
    h += "<details><summary>actions</summary><table><tr><th>#</th><th>action</th><th>status</th>"
         "<th>lock</th><th>started</th><th class=\"num\">ms</th><th></th></tr>";
    for (const auto& a : st.actions) {
      std::string as = journal::toString(a.status);
      int width = static_cast<int>(200 * a.duration_ms / max_ms);
      h += fmt::format(
          "<tr><td class=\"num\">{}</td><td><code>{}</code><details><summary>SQL</summary>"
          "<pre>{}</pre><pre>-- inverse\n{}</pre></details></td><td class=\"{}\">{}</td>"
          "<td>{}</td><td>{}</td><td class=\"num\">{}</td><td><span class=\"bar\" "
          "style=\"width:{}px\"></span></td></tr>",
          a.seq + 1, escapeHtml(a.id), escapeHtml(a.forward),
          escapeHtml(a.inverse.empty() ? "(irreversible)" : a.inverse), statusClass(as),
          escapeHtml(as), escapeHtml(a.lock), escapeHtml(a.started_at), a.duration_ms,
          std::max(1, width));
    }
    h += "</table></details>";
  }
  return h;
}

std::string runs(const std::vector<journal::RunRecord>& rs) {
  if (rs.empty()) return "";
  std::string h =
      "<details><summary>every run (" + std::to_string(rs.size()) +
      ")</summary><table><tr><th>#</th><th>command</th><th>step</th><th>mode</th><th>started</th>"
      "<th>finished</th><th>exit</th></tr>";
  for (const auto& r : rs) {
    h += fmt::format(
        "<tr><td class=\"num\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
        "<td class=\"num\">{}</td></tr>",
        r.id, escapeHtml(r.command), escapeHtml(r.step), escapeHtml(r.mode),
        escapeHtml(r.started_at), escapeHtml(r.finished_at), r.exit_code);
  }
  return h + "</table></details>";
}

std::string compares(const std::vector<journal::SnapshotRecord>& cs) {
  if (cs.empty()) return "<p>No compare has run (<code>dbsplit compare</code>).</p>";
  std::string h =
      "<table><tr><th>taken</th><th>consumer</th><th>result</th><th>projection</th><th>source</th>"
      "<th class=\"num\">source rows</th><th class=\"num\">projection rows</th>"
      "<th class=\"num\">missing</th><th class=\"num\">extra</th><th class=\"num\">different</th>"
      "</tr>";
  for (const auto& c : cs) {
    auto j = nlohmann::json::parse(c.body, nullptr, false);
    if (j.is_discarded() || !j.is_object()) continue;
    bool clean = j.value("clean", false);
    auto tables = j.value("tables", nlohmann::json::array());
    if (tables.empty()) tables.push_back(nlohmann::json::object());
    for (const auto& t : tables) {
      auto num = [&](const char* k) {
        return t.contains(k) && t[k].is_number() ? std::to_string(t[k].get<std::int64_t>())
                                                 : std::string();
      };
      h += fmt::format(
          "<tr><td>{}</td><td>{}</td><td class=\"{}\">{}</td><td>{}</td><td>{}</td>"
          "<td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>"
          "<td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
          escapeHtml(c.taken_at), escapeHtml(j.value("consumer", "")), clean ? "applied" : "failed",
          clean ? "clean" : "differences", escapeHtml(t.value("projection", "")),
          escapeHtml(t.value("source", "")), num("source_rows"), num("projection_rows"),
          num("missing"), num("extra"), num("different"));
    }
  }
  return h + "</table>";
}

std::string relays(const std::vector<RelayLag>& rs) {
  if (rs.empty())
    return "<p>No relay cursor yet (step projections, <code>dbsplit relay</code>).</p>";
  std::string h =
      "<table><tr><th>consumer</th><th>outbox</th><th class=\"num\">cursor seq</th>"
      "<th class=\"num\">applied</th><th class=\"num\">events behind</th><th>last batch</th>"
      "<th class=\"num\">seconds ago</th></tr>";
  for (const auto& r : rs) {
    h += fmt::format(
        "<tr><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>"
        "<td class=\"num\">{}</td><td>{}</td><td class=\"num\">{:.1f}</td></tr>",
        escapeHtml(r.consumer), escapeHtml(r.outbox), r.seq, r.applied,
        r.behind < 0 ? "?" : std::to_string(r.behind), escapeHtml(r.updated_at),
        r.seconds_since_update);
  }
  return h + "</table>";
}

}  // namespace

std::string renderHtml(const ReportInputs& in,
                       const std::function<std::string(const std::string&)>& dot_to_svg) {
  std::string h = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">";
  h += "<title>dbsplit report: " + escapeHtml(in.plan.migration.name) + "</title>";
  h += "<style>" + std::string(kStyle) + "</style></head><body>";
  h += "<h1>dbsplit report: " + escapeHtml(in.plan.migration.name) + "</h1>";
  h += "<p>Generated " + escapeHtml(in.generated_at) + " from the plan <code>" +
       escapeHtml(in.plan.file) + "</code> and the journal <code>" +
       escapeHtml(in.plan.migration.journal) + "</code>.</p>";
  h += "<nav>Steps: ";
  std::vector<std::string> links;
  for (const auto& s : in.steps) {
    links.push_back(fmt::format("<a href=\"#step-{0}\">{0}</a> ({1})", escapeHtml(s.step.name),
                                escapeHtml(journal::toString(s.step.status))));
  }
  h += links.empty() ? "none yet" : util::join(links, " &middot; ");
  h += "</nav>";
  h += "<h2>Coupling: who reads and writes whose tables</h2><div class=\"graphs\">";
  h += graph(in.before, in.plan, "Before", "The first catalogue snapshot.", dot_to_svg);
  h += afterGraph(in, dot_to_svg);
  h += "</div>";
  h += "<h2>Owned data</h2>" + ownedData(in.plan);
  h += "<h2>Steps</h2>" + timeline(in.steps) + runs(in.runs);
  h += "<h2>Compare results</h2>" + compares(in.compares);
  h += "<h2>Relay lag</h2>" + relays(in.relays);
  h += "</body></html>\n";
  return h;
}

}  // namespace dbsplit::report
