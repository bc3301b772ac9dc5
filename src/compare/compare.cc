// `dbsplit compare` for one consumer (see compare.h).
#include "compare/compare.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>

#include "compare/settle.h"
#include "compare/side.h"
#include "compare/table_spec.h"
#include "fmt/format.h"
#include "pg/conninfo.h"
#include "relay/spec.h"
#include "util/text.h"
#include "util/time.h"

namespace dbsplit::compare {
namespace {

struct Table {
  TableSpec spec;
  pg::Session* source = nullptr;  // where the source table lives now
  double estimated_rows = -1;
  TableReport report;
  std::vector<Key> suspects;
  std::vector<std::pair<std::string, Key>> found;  // kind, key: what persisted
};

// The source table as it is now (docs/steps/split.md): where the plan names
// it; in its owner's schema after step 6; in the owner's own database once a
// database-mode split has cut the owner over (the shared database's copy is
// fenced then, and gone after finalize). Sessions are opened once per database.
class SourceLocator {
 public:
  SourceLocator(const plan::Plan& plan, const std::string& main_dsn, pg::Session& main)
      : plan_(plan), main_dsn_(main_dsn), main_(main) {}

  std::pair<pg::Session*, Relation> locate(const plan::Projection& p) {
    const plan::Table* t = plan_.findTable(p.source);
    const std::string owner = t ? t->owner : "";
    const plan::QualifiedName in_owner{owner, p.source.name};
    pg::Session* at = &main_;
    if (!owner.empty()) {
      auto moved = moved_.find(owner);
      if (moved == moved_.end()) {
        moved = moved_.emplace(owner, relay::movedOutboxDsn(plan_, main_, main_dsn_, owner)).first;
      }
      if (!moved->second.empty()) at = &session(moved->second);
    }
    Relation r = describe(*at, p.source);
    if (!r.found && !owner.empty() && owner != p.source.schema) {
      Relation there = describe(*at, in_owner);
      if (there.found) r = there;
    }
    return {at, r};
  }

 private:
  pg::Session& session(const std::string& dsn) {
    auto it = sessions_.find(dsn);
    if (it == sessions_.end()) {
      it = sessions_.emplace(dsn, openSide(dsn, plan_.migration.name)).first;
    }
    return *it->second;
  }

  const plan::Plan& plan_;
  const std::string& main_dsn_;
  pg::Session& main_;
  std::map<std::string, std::string> moved_;  // owner -> its database's DSN, once cut over
  std::map<std::string, std::unique_ptr<pg::Session>> sessions_;
};

nlohmann::json keyJson(const TableSpec& spec, const Key& key) {
  nlohmann::json j = nlohmann::json::object();
  for (size_t i = 0; i < key.size() && i < spec.key.size(); ++i) {
    if (spec.key_is_integer[i]) {
      j[spec.key[i]] = std::stoll(key[i]);
    } else {
      j[spec.key[i]] = key[i];
    }
  }
  return j;
}

// What each suspect key is now: missing, extra, different, or gone (equal).
std::vector<std::pair<std::string, Key>> classify(Side& source, Side& target,
                                                  const std::vector<Key>& keys) {
  auto [s, t] =
      both([&] { return source.rowsByKeys(keys); }, [&] { return target.rowsByKeys(keys); });
  std::vector<std::pair<std::string, Key>> out;
  for (const Key& k : keys) {
    auto a = s.find(k);
    auto b = t.find(k);
    if (a == s.end() && b == t.end()) continue;  // deleted on both sides meanwhile
    if (b == t.end()) {
      out.emplace_back("missing", k);
    } else if (a == s.end()) {
      out.emplace_back("extra", k);
    } else if (a->second != b->second) {
      out.emplace_back("different", k);
    }
  }
  return out;
}

std::vector<std::string> outboxesOf(const plan::Plan& plan, const Selection& sel) {
  std::vector<std::string> out;
  for (const plan::Projection* p : sel.projections) {
    const plan::Table* t = plan.findTable(p->source);
    if (!t) continue;
    std::string outbox = plan::outboxOf(t->owner).display();
    if (std::find(out.begin(), out.end(), outbox) == out.end()) out.push_back(outbox);
  }
  return out;
}

nlohmann::json tableJson(const TableReport& t) {
  return {{"projection", t.projection},   {"source", t.source},
          {"source_rows", t.source_rows}, {"projection_rows", t.projection_rows},
          {"missing", t.missing},         {"extra", t.extra},
          {"different", t.different}};
}

}  // namespace

nlohmann::json ConsumerReport::toJson(size_t max_differences) const {
  nlohmann::json tables_json = nlohmann::json::array();
  for (const auto& t : tables) tables_json.push_back(tableJson(t));
  nlohmann::json diffs = nlohmann::json::array();
  for (size_t i = 0; i < differences.size() && i < max_differences; ++i) {
    diffs.push_back({{"projection", differences[i].projection},
                     {"kind", differences[i].kind},
                     {"key", differences[i].key}});
  }
  nlohmann::json j = {{"consumer", consumer},
                      {"clean", clean()},
                      {"started_at", started_at},
                      {"finished_at", finished_at},
                      {"relay_snapshot", relay_snapshot},
                      {"tables", tables_json},
                      {"differences", diffs}};
  if (differences.size() > max_differences) j["differences_total"] = differences.size();
  if (partial) j["partial"] = true;
  if (!notes.empty()) j["notes"] = notes;
  if (error) {
    j["error"] = {{"kind", error->kind()}, {"message", error->what()}};
  }
  return j;
}

std::vector<Selection> select(const plan::Plan& plan, const Options& options) {
  if (plan.projections.empty()) {
    throw Error::usage("no_projections", "the plan has no [[projection]]: nothing to compare",
                       "declare [[projection]] entries (docs/plan-reference.md)");
  }
  std::vector<std::string> consumers;
  for (const auto& p : plan.projections) {
    if (std::find(consumers.begin(), consumers.end(), p.consumer) == consumers.end()) {
      consumers.push_back(p.consumer);
    }
  }
  if (!options.consumer.empty() &&
      std::find(consumers.begin(), consumers.end(), options.consumer) == consumers.end()) {
    throw Error::usage(
        "unknown_consumer",
        fmt::format("--consumer {}: no [[projection]] has this consumer (consumers: "
                    "{})",
                    options.consumer, util::join(consumers, ", ")),
        util::closestMatch(options.consumer, consumers).empty()
            ? "dbsplit compare (every consumer)"
            : "did you mean --consumer " + util::closestMatch(options.consumer, consumers) + "?");
  }
  auto matches = [&](const plan::Projection& p) {
    const std::string& t = options.table;
    return t.empty() || t == p.name || t == projectionTable(p).display() || t == p.source.display();
  };
  std::vector<Selection> out;
  std::vector<std::string> names, candidates;
  for (const std::string& c : consumers) {
    if (!options.consumer.empty() && c != options.consumer) continue;
    Selection sel;
    sel.consumer = c;
    for (const auto& p : plan.projections) {
      if (p.consumer != c) continue;
      names.push_back(projectionTable(p).display());
      candidates.push_back(projectionTable(p).display());
      candidates.push_back(p.name);
      if (matches(p)) {
        sel.projections.push_back(&p);
      } else {
        sel.partial = true;
      }
    }
    if (!sel.projections.empty()) out.push_back(std::move(sel));
  }
  if (out.empty()) {
    std::string close = util::closestMatch(options.table, candidates);
    throw Error::usage(
        "unknown_table",
        fmt::format("--table {}: no [[projection]]{} is named so (projections: {})", options.table,
                    options.consumer.empty() ? "" : " of " + options.consumer,
                    util::join(names, ", ")),
        close.empty() ? "name a projection (consumer.name) or its source table"
                      : "did you mean --table " + close + "?");
  }
  return out;
}

ConsumerReport compareConsumer(const plan::Plan& plan, const Selection& sel, const Options& options,
                               util::Reporter& out) {
  ConsumerReport report;
  report.consumer = sel.consumer;
  report.partial = sel.partial;
  report.started_at = util::nowIso8601();
  std::vector<Table> tables;
  try {
    const plan::Service* service = plan.findService(sel.consumer);
    // The consumer's `database` laid over the migration's DSN, as the engine does.
    std::string target_dsn = service && !service->database.empty()
                                 ? relay::serviceDsn(options.dsn, service->database)
                                 : options.dsn;
    auto src = openSide(options.dsn, plan.migration.name);
    auto tgt = openSide(target_dsn, plan.migration.name);
    report.relay_snapshot = *src->scalar("SELECT pg_current_snapshot()::text");
    SourceLocator sources(plan, options.dsn, *src);

    // Every table is checked before any is compared: bad input stops the
    // compare before it has read any data.
    for (const plan::Projection* p : sel.projections) {
      auto [at, s] = sources.locate(*p);
      Relation t = describe(*tgt, projectionTable(*p));
      Table& table = tables.emplace_back();
      table.source = at;
      table.spec = buildSpec(*p, s, t);
      table.estimated_rows = std::max(s.estimated_rows, t.estimated_rows);
    }
    for (Table& table : tables) {
      Side s(*table.source, table.spec.source, "source table " + table.spec.source_name);
      Side t(*tgt, table.spec.target, "projection " + table.spec.projection_name);
      s.checkKey(table.spec.key);
      t.checkKey(table.spec.key);
    }

    for (Table& table : tables) {
      auto start = std::chrono::steady_clock::now();
      Side s(*table.source, table.spec.source, "source table " + table.spec.source_name);
      Side t(*tgt, table.spec.target, "projection " + table.spec.projection_name);
      auto progress = out.progress(
          "compare " + table.spec.projection_name,
          table.estimated_rows > 0 ? static_cast<std::int64_t>(table.estimated_rows) : 0, "rows");
      Differ differ(table.spec, s, t, options.bisect, table.estimated_rows, progress.get());
      DiffResult r = differ.run();
      progress->finish();
      table.suspects = std::move(r.suspects);
      TableReport& tr = table.report;
      tr.projection = table.spec.projection_name;
      tr.source = table.spec.source_name;
      tr.source_rows = r.source_rows;
      tr.projection_rows = r.projection_rows;
      tr.chunks = r.chunks;
      tr.queries = s.queries() + t.queries();
      tr.millis = util::millisSince(start);
    }

    // Moving data: re-check the suspects once the relay is past the moment
    // they were seen; only what persists is reported.
    size_t suspects = 0;
    for (const Table& table : tables) suspects += table.suspects.size();
    if (suspects > 0) {
      // Where a database-mode split moves each outbox (its owner's database).
      std::map<std::string, std::string> owner_dsns;
      for (const std::string& outbox : outboxesOf(plan, sel)) {
        const plan::Service* o = plan.findService(outbox.substr(0, outbox.size() - 7));
        if (plan.split.mode == "database" && o && !o->database.empty()) {
          owner_dsns[outbox] = pg::buildConninfo(options.dsn, pg::parseConninfo(o->database));
        }
      }
      RelayWatch watch(*src, *tgt, plan.migration.name, sel.consumer, outboxesOf(plan, sel),
                       owner_dsns);
      for (int attempt = 1;; ++attempt) {
        std::string moment = watch.sourceSnapshot();
        auto deadline =
            std::chrono::steady_clock::now() + std::chrono::milliseconds(options.settle_timeout_ms);
        std::string why;
        out.event({{"event", "compare_recheck"},
                   {"consumer", sel.consumer},
                   {"attempt", attempt},
                   {"keys", suspects},
                   {"after_snapshot", moment}},
                  fmt::format("{}: {} key(s) differ; re-checking them once the relay has "
                              "passed this moment (attempt {}/{})",
                              sel.consumer, suspects, attempt, options.retries));
        RelayState state = watch.waitPast(moment, deadline, &why);
        suspects = 0;
        for (Table& table : tables) {
          Side s(*table.source, table.spec.source, "source table " + table.spec.source_name);
          Side t(*tgt, table.spec.target, "projection " + table.spec.projection_name);
          table.found = classify(s, t, table.suspects);
          table.report.queries += s.queries() + t.queries();
          table.suspects.clear();
          for (const auto& f : table.found) table.suspects.push_back(f.second);
          suspects += table.suspects.size();
        }
        if (state != RelayState::kCaughtUp) {
          if (suspects > 0) {
            report.notes.push_back(why + "; differences are reported as found");
            out.warn(report.notes.back());
          }
          break;
        }
        if (suspects == 0 || attempt >= options.retries) break;
      }
    }
  } catch (const Error& e) {
    report.error = e;
  } catch (const std::exception& e) {
    report.error = Error::stepFailed("internal", e.what(), "this is a bug in dbsplit");
  }
  for (Table& table : tables) {
    if (table.report.projection.empty()) continue;  // never compared
    for (const auto& [kind, key] : table.found) {
      if (kind == "missing") ++table.report.missing;
      if (kind == "extra") ++table.report.extra;
      if (kind == "different") ++table.report.different;
      report.differences.push_back({table.spec.projection_name, kind, keyJson(table.spec, key)});
    }
    report.tables.push_back(table.report);
  }
  report.finished_at = util::nowIso8601();
  return report;
}

}  // namespace dbsplit::compare
