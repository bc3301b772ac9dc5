// The demo's commands (walk.h): each step and tool runs as the real dbsplit
// command in a child process (child.h), narrated from its JSON events.
#include <map>
#include <set>
#include <tuple>

#include "demo/walk.h"
#include "pg/session.h"
#include "sql/quote.h"
#include "util/time.h"

namespace dbsplit::demo {

void Demo::requireOk(const ChildResult& r, const std::string& what) {
  if (r.exit_code == 0) return;
  throw Error(
      static_cast<ExitCode>(r.exit_code == 4 || r.exit_code == 3 ? r.exit_code : 1),
      "demo_step_failed", fmt::format("{} failed: {}", what, r.errorMessage()),
      fmt::format("the sandbox keeps running for a look: dbsplit --plan {} status", plan_path_));
}

void Demo::runStep(const std::string& step, const std::string& story) {
  narrate("step " + step, story);
  auto start = Clock::now();
  workload_->beginWindow();
  ChildResult r = dbsplit({"run", step, "--yes"});
  const WindowStats w = workload_->window();
  windows_.emplace_back(step, w);
  requireOk(r, "dbsplit run " + step);
  int applied = 0, total = 0;
  ChildResult st = dbsplit({"status"});
  for (const auto& e : st.named("step")) {
    if (e.value("step", "") == step) {
      applied = e.value("actions_applied", 0);
      total = e.value("actions_total", 0);
    }
  }
  for (const auto& g : r.named("gate")) {
    std::string evidence = g.value("evidence", "");
    if (evidence.size() > 110) evidence = evidence.substr(0, 107) + "...";
    say(fmt::format("gate {:<20} {}  {}", g.value("name", g.value("gate", "?")),
                    g.value("passed", false) ? "passed" : "FAILED", evidence));
  }
  say(fmt::format("$ dbsplit run {} --yes   -> applied {}/{} actions in {:.1f} s", step, applied,
                  total, secondsSince(start)));
  out_.event({{"event", "demo_step_services"},
              {"step", step},
              {"transactions", w.transactions},
              {"failed", w.errors},
              {"longest_ms", w.longest_ms},
              {"connects", w.connects}},
             fmt::format("   the services meanwhile: {} transactions, {} failed, longest {} ms, "
                         "{} new connections",
                         w.transactions, w.errors, w.longest_ms, w.connects));
}

void Demo::finalizeSchemaSplit() {
  auto oldSessions = [this]() -> std::int64_t {
    for (const auto& e : dbsplit({"status"}).named("split_compat_views")) {
      return e.value("old_sessions", std::int64_t{0});
    }
    return 0;
  };
  say(fmt::format("$ dbsplit status   -> {} session(s) still predate the split", oldSessions()));
  narrate("pool recycle",
          "The services' pools retire the connections they held through the split (a\n"
          "pool's maximum lifetime does that); new ones get the owner's search_path.");
  workload_->recyclePool();
  std::int64_t old = 0;
  for (int i = 0; i < 30 && (old = oldSessions()) > 0; ++i) sleepSeconds(0.5);
  say(fmt::format("$ dbsplit status   -> {} session(s) predate the split", old));
  narrate("step split finalize",
          "No session needs the compatibility views any more: finalize drops them.");
  workload_->beginWindow();
  ChildResult r = dbsplit({"split", "finalize", "--yes"});
  const WindowStats w = workload_->window();
  windows_.emplace_back("finalize", w);
  requireOk(r, "dbsplit split finalize");
  int dropped = 0;
  for (const auto& e : r.named("action")) dropped += e.value("status", "") == "applied";
  say(fmt::format("$ dbsplit split finalize --yes   -> {} compatibility view(s) dropped", dropped));
  say(fmt::format("the services meanwhile: {} transactions, {} failed, longest {} ms",
                  w.transactions, w.errors, w.longest_ms));
}

void Demo::showCoupling() {
  ChildResult r = dbsplit({"catalogue"});
  requireOk(r, "dbsplit catalogue");
  std::map<std::string, std::string> owner;
  for (const auto& t : plan_->tables) owner[t.name.display()] = t.owner;
  std::map<std::tuple<std::string, std::string, std::string>, std::int64_t> cross;
  for (const auto& ev : r.named("catalogue")) {
    for (const auto& a : ev.value("accesses", nlohmann::json::array())) {
      std::string table = a.value("table", "");
      std::string svc = a.value("service", "");
      auto it = owner.find(table);
      // Roles of no service (the loader, this demo) are not the coupling.
      if (it == owner.end() || it->second == svc || svc == "unassigned") continue;
      cross[{svc, a.value("kind", ""), table}] += a.value("calls", std::int64_t{0});
    }
  }
  for (const auto& [k, calls] : cross) {
    const auto& [svc, kind, table] = k;
    say(fmt::format("{:<12} {:<5} {:<24} {:>6} calls  (owner: {})", svc, kind, table, calls,
                    owner[table]));
  }
  say(fmt::format("{} cross-service accesses: the shared surface the next steps remove",
                  cross.size()));
}

void Demo::showEvents() {
  std::set<std::string> owners;
  for (const auto& e : plan_->events) {
    for (const auto& t : plan_->tables) {
      if (t.name == e.table) owners.insert(t.owner);
    }
  }
  auto s = pg::Session::connect({dsn_, "dbsplit/demo", true, 10, true});
  for (const auto& owner : owners) {
    auto n = s->scalar("SELECT count(*) FROM " + sql::quoteQualified(owner, "outbox"));
    say(fmt::format("{}.outbox: {} events so far", owner, n.value_or("?")));
  }
}

// The revoke gate measures "zero direct reads over the deprecation window"
// between catalogue snapshots, so the demo stores one when the consumers move
// to their projections, as a DBA does with `dbsplit catalogue --store`.
void Demo::storeCatalogueSnapshot(const std::string& why) {
  ChildResult r = dbsplit({"catalogue", "--store"});
  requireOk(r, "dbsplit catalogue --store");
  for (const auto& ev : r.named("catalogue_stored")) {
    say(fmt::format("$ dbsplit catalogue --store   -> snapshot {} ({})", ev.value("id", 0), why));
  }
}

void Demo::startRelays() {
  for (const auto& c : consumers_) {
    relays_.push_back(std::make_unique<BackgroundDbsplit>(
        cmd({"relay", "--consumer", c}), work_ + "/relay-" + c + ".log", child_.env));
  }
  say(fmt::format("$ dbsplit relay --consumer C   x{} in the background (logs: {}/relay-*.log)",
                  relays_.size(), work_));
}

void Demo::stopRelays() {
  for (auto& r : relays_) {
    int code = r->stop();
    if (code != 0) out_.warn(fmt::format("a relay stopped with exit code {}", code));
  }
  relays_.clear();
}

void Demo::compare() {
  narrate("compare",
          "Shadow-compare each projection with its source, in key-range chunks, while the\n"
          "services keep writing; differences are re-checked once the relay caught up.");
  for (const auto& c : consumers_) {
    ChildResult r;
    for (int attempt = 0; attempt < 3; ++attempt) {
      r = dbsplit({"compare", "--consumer", c});
      if (r.exit_code != 3) break;
      sleepSeconds(2);  // in flight: let the relay catch up and look again
    }
    requireOk(r, "dbsplit compare --consumer " + c);
    std::int64_t rows = 0;
    int tables = 0;
    for (const auto& t : r.named("compare_table")) {
      ++tables;
      rows += t.value("projection_rows", std::int64_t{0});
    }
    say(fmt::format("$ dbsplit compare --consumer {:<12} clean ({} projection(s), {} rows)", c,
                    tables, rows));
  }
}

void Demo::waitDeprecationWindow() {
  std::int64_t window_ms = util::parseDurationMillis(o_.window, "--window");
  double remaining = static_cast<double>(window_ms) / 1000 - secondsSince(switched_at_) + 2;
  if (remaining > 0) {
    say(fmt::format("waiting {:.0f} s for the deprecation window ({}) to pass with no direct reads",
                    remaining, o_.window));
    sleepSeconds(remaining);
  }
}

void Demo::showServices(const std::string& when) {
  std::int64_t tx = 0, errors = 0;
  for (const auto& s : workload_->stats()) {
    tx += s.transactions;
    errors += s.errors;
  }
  say(fmt::format("services {}: {} transactions committed, {} writes recorded, {} errors", when, tx,
                  workload_->ledger().writes(), errors));
  for (const auto& s : workload_->stats()) {
    if (s.errors > 0) say(fmt::format("  {}: last error: {}", s.name, s.last_error));
  }
}

}  // namespace dbsplit::demo
