// dbsplit catalogue: who reads and writes every table, printed; with --store
// also kept in the journal as history (`dbsplit run catalogue` stores the same
// snapshot as the step's record, which its rollback deletes).
#include <filesystem>
#include <map>
#include <set>

#include "catalogue/catalog.h"
#include "catalogue/collector.h"
#include "catalogue/delta.h"
#include "catalogue/render.h"
#include "catalogue/shared.h"
#include "catalogue/source.h"
#include "cli/app.h"
#include "cli/common.h"
#include "engine/journal_access.h"
#include "fmt/format.h"
#include "journal/journal.h"
#include "pg/session.h"
#include "util/text.h"

namespace dbsplit::cli {
namespace {

struct CatalogueOptions {
  std::vector<std::string> sources;
  bool propose = false;
  std::string format = "text";
  std::string since;
  bool store = false;
};

// The plan is optional here: with --dsn and no plan file, every role is unassigned.
std::unique_ptr<plan::Plan> optionalPlan(Context& ctx) {
  if (!ctx.global.plan_given && !ctx.global.dsn.empty() &&
      !std::filesystem::exists(ctx.global.plan_file)) {
    return nullptr;
  }
  return std::make_unique<plan::Plan>(loadPlan(ctx));
}

void warnAbout(Context& ctx, const catalogue::Snapshot& s) {
  if (s.stats.statements == 0) {
    ctx.out.warn("no statement found in " + util::join(s.sources, ", ") +
                 " (is log_statement or log_min_duration_statement set?)");
  }
  if (s.stats.skipped_lines > 0) {
    std::string first = s.skipped.empty() ? ""
                                          : fmt::format(" (first: {}: {})", s.skipped[0].where,
                                                        s.skipped[0].reason);
    ctx.out.warn(fmt::format("{} line(s) of input skipped{}", s.stats.skipped_lines, first));
  }
  if (!s.unresolved.empty()) {
    std::int64_t calls = 0;
    for (const auto& u : s.unresolved) calls += u.calls;
    ctx.out.warn(
        fmt::format("{} statement shape(s) ({} call(s)) not fully resolved; they are "
                    "listed under \"unresolved\"",
                    s.unresolved.size(), calls));
  }
}

// History for `--since` and for revoke's window gate, which compares the
// accesses seen over the deprecation window: kept across a rollback of step 1.
void storeSnapshot(Context& ctx, const plan::Plan& plan, const catalogue::Snapshot& snap) {
  auto journal = engine::openJournalForWriting(plan);
  std::int64_t id = journal->addSnapshot("catalogue", snap.toJson().dump());
  ctx.out.event({{"event", "catalogue_stored"}, {"id", id}, {"journal", journal->path()}},
                fmt::format("catalogue snapshot {} stored in {}", id, journal->path()));
}

Outcome runCatalogue(Context& ctx, const CatalogueOptions& o) {
  auto plan = optionalPlan(ctx);
  if (o.store && !plan) {
    throw Error::usage("store_needs_plan", "--store keeps the snapshot in the plan's journal",
                       "give --plan (or run where dbsplit.toml is)");
  }
  auto sources = catalogue::chooseSources(o.sources, plan.get());
  catalogue::checkSources(sources);
  std::unique_ptr<journal::Journal> journal;
  if (!o.since.empty() && plan && journal::Journal::exists(plan->migration.journal)) {
    journal = journal::Journal::open(plan->migration.journal, journal::Journal::Mode::kReadOnly);
  }
  std::string note;
  std::optional<journal::SnapshotRecord> baseline;
  if (!o.since.empty()) baseline = catalogue::pickBaseline(journal.get(), o.since, &note);

  pg::ConnectOptions conn;
  conn.dsn = ctx.global.dsn.empty() && plan ? plan->migration.database : ctx.global.dsn;
  conn.application_name = fmt::format("dbsplit/{}/catalogue", plan ? plan->migration.name : "-");
  conn.read_only = true;
  auto session = pg::Session::connect(conn);
  catalogue::Snapshot snap = catalogue::collect(sources, plan.get(), *session);
  warnAbout(ctx, snap);
  if (o.store) storeSnapshot(ctx, *plan, snap);

  if (baseline) {
    if (!note.empty()) ctx.out.warn(note);
    auto before = catalogue::Snapshot::fromJson(nlohmann::json::parse(baseline->body));
    auto delta = catalogue::diffSnapshots(before, snap);
    nlohmann::json dj = catalogue::deltaJson(delta);
    dj["baseline_id"] = baseline->id;
    if (ctx.out.json()) {
      dj["event"] = "catalogue_delta";
      ctx.out.event(dj);
    } else if (o.format == "json") {
      ctx.out.say(dj.dump(2));
    } else {
      ctx.out.say(catalogue::renderDelta(delta));
    }
    return {ExitCode::kOk, {}};
  }
  std::map<std::string, std::vector<std::string>> keys;
  if (o.propose) {
    std::set<std::string> tables;
    for (const auto& a : snap.accesses) tables.insert(a.table);
    keys = catalogue::readPrimaryKeys(*session, tables);
  }
  if (ctx.out.json()) {
    nlohmann::json ev = snap.toJson();
    ev["event"] = "catalogue";
    ev["shared"] = catalogue::sharedSurfaceJson(catalogue::sharedSurface(snap, plan.get()));
    ctx.out.event(ev);
    if (o.propose) {
      ctx.out.event(
          {{"event", "proposal"}, {"toml", catalogue::renderProposal(snap, plan.get(), keys)}});
    }
    return {ExitCode::kOk, {}};
  }
  if (o.propose) {
    ctx.out.say(catalogue::renderProposal(snap, plan.get(), keys));
  } else if (o.format == "json") {
    nlohmann::json j = snap.toJson();
    j["shared"] = catalogue::sharedSurfaceJson(catalogue::sharedSurface(snap, plan.get()));
    ctx.out.say(j.dump(2));
  } else if (o.format == "csv") {
    ctx.out.say(catalogue::renderCsv(snap));
  } else if (o.format == "mermaid") {
    ctx.out.say(catalogue::renderMermaid(snap, plan.get()));
  } else if (o.format == "dot") {
    ctx.out.say(catalogue::renderDot(snap, plan.get()));
  } else {
    ctx.out.say(catalogue::renderText(snap, plan.get()));
    return {ExitCode::kOk, {"dbsplit run catalogue", "dbsplit catalogue --propose"}};
  }
  return {ExitCode::kOk, {}};
}

}  // namespace

void addCatalogueCommand(CLI::App& app, AppState& state) {
  auto o = std::make_shared<CatalogueOptions>();
  CLI::App* cmd = addCommand(
      app, state, "catalogue", "Who reads and writes every table, down to columns",
      "  Reads statements from the sources, parses each distinct shape once with\n"
      "  libpg_query, resolves names against the live catalog with each role's\n"
      "  search_path (views expanded to base tables, partitions to their root,\n"
      "  SELECT * to columns, SQL and PL/pgSQL function bodies followed) and prints\n"
      "  per table its owner, writers and readers, with cross-service accesses\n"
      "  marked. Statements that cannot be parsed or resolved are listed with the\n"
      "  reason. Prints only: `dbsplit run catalogue` stores the snapshot.\n"
      "\n"
      "  Sources (--source, repeatable; else [step.catalogue] sources; else\n"
      "  pg_stat_statements):\n"
      "    pg_stat_statements      the live database's statistics, users -> services\n"
      "    log:FILE[@SERVICE]      a PostgreSQL log: stderr, csvlog or jsonlog, with\n"
      "                            log_statement, duration and pgaudit AUDIT lines\n"
      "    sql:PATH[@SERVICE]      a .sql file or folder; a subfolder named after a\n"
      "                            service attributes its files to it\n"
      "  Roles in no [[service]] are listed as \"unassigned\".\n"
      "\n"
      "  --since SNAPSHOT|WINDOW compares with a stored snapshot (its id, or the one\n"
      "  taken WINDOW ago, e.g. 7d): new accesses, and accesses that stopped.\n"
      "  --store also keeps this snapshot in the journal, as history for --since and\n"
      "  for step 5's deprecation-window gate (a rollback of step 1 keeps it).",
      "  dbsplit catalogue\n"
      "  dbsplit catalogue --source pg_stat_statements --source log:/var/log/postgresql/pg.csv\n"
      "  dbsplit catalogue --source sql:./services --format mermaid > shared.mmd\n"
      "  dbsplit catalogue --propose > ownership.toml\n"
      "  dbsplit catalogue --since 7d\n"
      "  dbsplit catalogue --store --since 1d    # daily, e.g. from cron",
      [o](Context& ctx) -> Outcome { return runCatalogue(ctx, *o); });
  cmd->add_option("--source", o->sources, "Where statements come from (repeatable)")
      ->type_name("SOURCE");
  cmd->add_flag("--propose", o->propose,
                "Print a draft plan: services, owners, events, projections, waiver stubs");
  cmd->add_option("--format", o->format, "text (default), json, csv, mermaid or dot")
      ->check(CLI::IsMember({"text", "json", "csv", "mermaid", "dot"}));
  cmd->add_option("--since", o->since, "Delta against a snapshot id or a window (7d)")
      ->type_name("SNAPSHOT|WINDOW");
  cmd->add_flag("--store", o->store, "Also keep the snapshot in the journal (history)");
}

}  // namespace dbsplit::cli
