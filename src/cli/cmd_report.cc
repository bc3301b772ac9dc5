// dbsplit report --html FILE: gathers the journal (steps, actions, runs,
// catalogue and compare snapshots), the live catalogue delta and the relay
// cursors, and writes one self-contained page (src/report renders it).
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <tuple>

#include "catalogue/collector.h"
#include "catalogue/delta.h"
#include "catalogue/source.h"
#include "cli/app.h"
#include "cli/common.h"
#include "fmt/format.h"
#include "journal/journal.h"
#include "pg/session.h"
#include "relay/spec.h"
#include "report/report.h"
#include "sql/quote.h"
#include "steps/registry.h"
#include "util/time.h"

namespace dbsplit::cli {
namespace {

struct ReportOptions {
  std::string html;
};

// Accesses that still happen: those of `now` that are new or continuing
// since `baseline` (pg_stat_statements counts are cumulative).
catalogue::Snapshot stillHappening(const catalogue::Snapshot& baseline,
                                   const catalogue::Snapshot& now) {
  catalogue::Delta d = catalogue::diffSnapshots(baseline, now);
  std::set<std::tuple<std::string, std::string, std::string>> live;
  for (const auto* list : {&d.added, &d.continuing}) {
    for (const auto& e : *list) live.insert({e.service, e.table, e.kind});
  }
  catalogue::Snapshot out = now;
  out.accesses.clear();
  for (const auto& a : now.accesses) {
    if (live.count({a.service, a.table, a.kind})) out.accesses.push_back(a);
  }
  return out;
}

std::vector<report::RelayLag> relayLag(const plan::Plan& plan, const std::string& dsn) {
  std::vector<report::RelayLag> out;
  std::set<std::string> consumers;
  for (const auto& p : plan.projections) consumers.insert(p.consumer);
  for (const auto& c : consumers) {
    std::string where = dsn;
    for (const auto& s : plan.services) {
      if (s.name == c && !s.database.empty()) where = s.database;
    }
    try {
      auto s = pg::Session::connect({where, "dbsplit/" + plan.migration.name + "/report", true, 5});
      if (!s->scalar("SELECT to_regclass($1)", sql::quoteQualified(c, "dbsplit_cursor"))) continue;
      pg::Result r = s->exec(
          "SELECT outbox, seq, applied, updated_at::text,\n"
          "       extract(epoch FROM now() - updated_at)::float8\n"
          "  FROM " +
          sql::quoteQualified(c, "dbsplit_cursor") + " ORDER BY outbox");
      for (const auto& row : r) {
        report::RelayLag lag;
        lag.consumer = c;
        lag.outbox = row[0].c_str();
        lag.seq = row[1].as<std::int64_t>();
        lag.applied = row[2].as<std::int64_t>();
        lag.updated_at = row[3].c_str();
        lag.seconds_since_update = row[4].as<double>();
        out.push_back(lag);
      }
    } catch (const Error&) {
      continue;  // the consumer's database is not reachable: no lag shown
    }
  }
  // Events behind, counted on the source (the outbox lives with its owner).
  try {
    auto s = pg::Session::connect({dsn, "dbsplit/" + plan.migration.name + "/report", true, 5});
    for (auto& lag : out) {
      auto dot = lag.outbox.find('.');
      if (dot == std::string::npos) continue;
      std::string table =
          sql::quoteQualified(lag.outbox.substr(0, dot), lag.outbox.substr(dot + 1));
      // Where the outbox is now (a database-mode split moves it with its
      // owner; both copies share the seqs up to the cutover).
      std::unique_ptr<pg::Session> moved;
      if (std::string m = relay::movedOutboxDsn(plan, *s, dsn, lag.outbox.substr(0, dot));
          !m.empty()) {
        moved = pg::Session::connect({m, "dbsplit/" + plan.migration.name + "/report", true, 5});
      }
      pg::Session& at = moved ? *moved : *s;
      if (!at.scalar("SELECT to_regclass($1)", table)) continue;
      lag.behind = std::stoll(
          at.scalar("SELECT count(*) FROM " + table + " WHERE seq >= $1", lag.seq).value_or("0"));
    }
  } catch (const Error&) {
  }
  return out;
}

Outcome runReport(Context& ctx, const ReportOptions& o) {
  if (o.html.empty()) throw Error::usage("usage", "name the output: --html FILE");
  plan::Plan plan = loadPlan(ctx);
  const std::string dsn = resolveDsn(ctx, plan);
  report::ReportInputs in{plan, {}, {}, {}, {}, {}, {}, {}, util::nowIso8601()};
  std::unique_ptr<journal::Journal> j;
  if (journal::Journal::exists(plan.migration.journal)) {
    j = journal::Journal::open(plan.migration.journal, journal::Journal::Mode::kReadOnly);
  }
  std::vector<journal::SnapshotRecord> catalogues;
  if (j) {
    // In playbook order (the registry's), then any other step the journal knows.
    std::vector<journal::StepRecord> steps = j->steps();
    auto rank = [](const std::string& name) {
      auto reg = steps::registry();
      for (size_t i = 0; i < reg.size(); ++i) {
        if (reg[i]->name() == name) return i;
      }
      return reg.size();
    };
    std::stable_sort(steps.begin(), steps.end(),
                     [&](const auto& a, const auto& b) { return rank(a.name) < rank(b.name); });
    for (const auto& step : steps) in.steps.push_back({step, j->actions(step.name)});
    in.runs = j->runs(0);
    in.compares = j->snapshots("compare");
    catalogues = j->snapshots("catalogue");
  }
  if (!catalogues.empty()) {
    in.before = catalogue::Snapshot::fromJson(nlohmann::json::parse(catalogues.front().body));
  }
  try {
    auto sources = catalogue::chooseSources({}, &plan);
    catalogue::checkSources(sources);
    auto s = pg::Session::connect({dsn, "dbsplit/" + plan.migration.name + "/report", true, 10});
    catalogue::Snapshot now = catalogue::collect(sources, &plan, *s);
    if (catalogues.size() >= 2) {
      auto last = catalogue::Snapshot::fromJson(nlohmann::json::parse(catalogues.back().body));
      in.after = stillHappening(last, now);
      in.after_note =
          "Accesses seen since the latest catalogue snapshot (" + catalogues.back().taken_at + ").";
    } else {
      in.after = now;
      in.after_note =
          "The live catalogue now (store a second snapshot to see only what is "
          "still happening).";
    }
    in.relays = relayLag(plan, dsn);
  } catch (const Error& e) {
    in.after_note = std::string("The database could not be read: ") + e.what();
  }
  // Roles of no service (a loader, dbsplit's own sessions) are not coupling.
  for (auto* snap : {&in.before, &in.after}) {
    if (!*snap) continue;
    auto& acc = (*snap)->accesses;
    acc.erase(std::remove_if(acc.begin(), acc.end(),
                             [](const auto& a) { return a.service == "unassigned"; }),
              acc.end());
  }
  std::string html = report::renderHtml(in, report::dotToSvg);
  std::ofstream f(o.html, std::ios::binary | std::ios::trunc);
  f << html;
  if (!f) throw Error::stepFailed("report_write", "could not write " + o.html);
  ctx.out.event(
      {{"event", "report"}, {"file", o.html}, {"bytes", html.size()}, {"steps", in.steps.size()}},
      fmt::format("wrote {} ({} bytes, {} step(s))", o.html, html.size(), in.steps.size()));
  return {ExitCode::kOk, {}};
}

}  // namespace

void addReportCommand(CLI::App& app, AppState& state) {
  auto o = std::make_shared<ReportOptions>();
  CLI::App* cmd =
      addCommand(app, state, "report", "One self-contained HTML page about the migration",
                 "  Writes FILE: the coupling graph before (first catalogue snapshot); after,\n"
                 "  the target the plan describes (tables under their owner's schema, outboxes\n"
                 "  feeding projections) with the accesses still happening since the latest\n"
                 "  snapshot to another service's table in red; the owned-data table,\n"
                 "  each step's timeline with its actions, locks and durations, every run,\n"
                 "  compare results and relay lag. The page needs no network. Graphs are SVG\n"
                 "  when Graphviz `dot` is installed, DOT text otherwise.",
                 "  dbsplit report --html migration.html",
                 [o](Context& ctx) -> Outcome { return runReport(ctx, *o); });
  cmd->add_option("--html", o->html, "Output file")->required();
}

}  // namespace dbsplit::cli
