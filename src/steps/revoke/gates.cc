// Gates of the revoke step (see revoke_gates.h).
#include "steps/revoke/gates.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <optional>
#include <tuple>

#include "catalogue/shared.h"
#include "fmt/format.h"
#include "nlohmann/json.hpp"
#include "util/error.h"
#include "util/text.h"
#include "util/time.h"

namespace dbsplit::steps::revoke {
namespace {

using Key = std::tuple<std::string, std::string, std::string, std::string, std::string>;

Key keyOf(const CrossAccess& a) { return {a.service, a.role, a.table, a.fingerprint, a.via}; }

std::string shortStatement(const std::string& s) {
  std::string flat;
  for (char c : s) flat += (c == '\n' || c == '\t') ? ' ' : c;
  return flat.size() <= 70 ? flat : flat.substr(0, 67) + "...";
}

// "3d 4h", "2h 5m", "12m 3s", "4s".
std::string humanDuration(std::int64_t ms) {
  std::int64_t s = std::max<std::int64_t>(0, (ms + 999) / 1000);
  std::int64_t d = s / 86400, h = s % 86400 / 3600, m = s % 3600 / 60, sec = s % 60;
  if (d) return fmt::format("{}d {}h", d, h);
  if (h) return fmt::format("{}h {}m", h, m);
  if (m) return fmt::format("{}m {}s", m, sec);
  return fmt::format("{}s", sec);
}

// Calls per statement and table. A statement that reads and writes a table is
// one access per kind, each with the statement's calls: counted once (the
// larger of its kinds' sums over sources), not twice.
std::map<Key, std::int64_t> totals(const std::vector<CrossAccess>& accesses) {
  std::map<std::pair<Key, std::string>, std::int64_t> per_kind;
  for (const auto& a : accesses) per_kind[{keyOf(a), a.kind}] += a.calls;
  std::map<Key, std::int64_t> out;
  for (const auto& [key, calls] : per_kind) out[key.first] = std::max(out[key.first], calls);
  return out;
}

std::optional<catalogue::Snapshot> parseSnapshot(const journal::SnapshotRecord& r) {
  nlohmann::json j = nlohmann::json::parse(r.body, nullptr, false);
  if (j.is_discarded()) return std::nullopt;
  try {
    return catalogue::Snapshot::fromJson(j);
  } catch (const Error&) {
    return std::nullopt;
  }
}

std::string describe(const CrossAccess& a) {
  return fmt::format("{}{} {}s {} of {}{}", a.service, a.role.empty() ? "" : " (" + a.role + ")",
                     a.kind.empty() ? "read" : a.kind, a.table, a.owner,
                     a.via.empty() ? "" : " via " + a.via);
}

// The latest snapshot of `kind` records whose body names `consumer`.
const journal::SnapshotRecord* latestFor(const std::vector<journal::SnapshotRecord>& records,
                                         const std::string& consumer, nlohmann::json* body) {
  const journal::SnapshotRecord* best = nullptr;
  for (const auto& r : records) {
    nlohmann::json j = nlohmann::json::parse(r.body, nullptr, false);
    if (!j.is_object() || j.value("consumer", std::string()) != consumer) continue;
    if (!best || r.id > best->id) {
      best = &r;
      if (body) *body = j;
    }
  }
  return best;
}

std::string compareDifferences(const nlohmann::json& body) {
  std::vector<std::string> parts;
  if (body.contains("tables") && body["tables"].is_array()) {
    for (const auto& t : body["tables"]) {
      auto n = [&](const char* k) { return t.value(k, std::int64_t{0}); };
      if (n("missing") || n("extra") || n("different")) {
        parts.push_back(fmt::format("{} (from {}): {} missing, {} extra, {} different",
                                    t.value("projection", std::string("?")),
                                    t.value("source", std::string("?")), n("missing"), n("extra"),
                                    n("different")));
      }
    }
  }
  return parts.empty() ? "not clean" : util::join(parts, ", ");
}

// For a write a [[waiver]] accepted in step 2: the step revokes it too.
std::string waiverNote(const plan::Plan& plan, const CrossAccess& a) {
  if (a.kind != "write") return {};
  for (const auto& w : plan.waivers) {
    if (w.service == a.service && w.table.display() == a.table) {
      return fmt::format(
          " (waived in step 2: \"{}\"; this step revokes waived writes too: stop the write "
          "first)",
          w.reason);
    }
  }
  return {};
}

// The consumers none of whose statements (on any table, their own included)
// moved between `before` and `now`, sorted.
std::vector<std::string> idleConsumers(const std::set<std::string>& consumers,
                                       const catalogue::Snapshot& before,
                                       const catalogue::Snapshot& now) {
  auto ofConsumers = [&](const catalogue::Snapshot& s) {
    std::map<Key, std::int64_t> out;
    for (const auto& a : s.accesses) {
      if (consumers.count(a.service)) {
        out[{a.service, a.role, a.table, a.fingerprint, a.via + "\n" + a.kind}] += a.calls;
      }
    }
    return out;
  };
  auto was = ofConsumers(before);
  std::set<std::string> active;
  for (const auto& [key, calls] : ofConsumers(now)) {
    auto it = was.find(key);
    if (it == was.end() ? calls != 0 : it->second != calls) active.insert(std::get<0>(key));
  }
  std::vector<std::string> idle;
  for (const auto& c : consumers) {
    if (!active.count(c)) idle.push_back(c);
  }
  return idle;
}

}  // namespace

std::int64_t parseIsoMillis(const std::string& iso) {
  std::tm tm{};
  int ms = 0;
  if (std::sscanf(iso.c_str(), "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) < 6) {
    return -1;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<std::int64_t>(timegm(&tm)) * 1000 + ms;
}

std::vector<CrossAccess> crossAccesses(const catalogue::Snapshot& snapshot,
                                       const std::map<std::string, std::string>& owner_of,
                                       const plan::Plan* plan) {
  std::vector<CrossAccess> out;
  auto kept = [plan](const std::string& via) {
    if (!plan || via.empty()) return false;
    auto [kind, name] = catalogue::parseVia(via);
    for (const auto& o : plan->shared) {
      if (o.kind == kind && o.decision == "keep" && o.name.display() == name) return true;
    }
    return false;
  };
  for (const auto& a : snapshot.accesses) {
    if (a.service.empty() || a.service == catalogue::kUnassigned) continue;
    if (kept(a.via)) continue;
    auto it = owner_of.find(a.table);
    if (it == owner_of.end() || it->second == a.service) continue;
    out.push_back({a.service, a.role, a.table, it->second, a.fingerprint, a.statement, a.via,
                   a.kind, a.calls});
  }
  return out;
}

engine::Gate compareGate(const plan::Plan& plan, const std::vector<CrossAccess>& reads,
                         const std::map<std::string, std::string>& root_of,
                         const std::vector<journal::SnapshotRecord>& compares,
                         const std::vector<journal::SnapshotRecord>& relay_starts) {
  if (!plan.revoke.require_compare) {
    return {"compare_clean", true, "require_compare = false: compare results are not checked"};
  }
  std::vector<std::string> problems, fine;
  // A consumer reading another's table needs a projection of it.
  std::set<std::pair<std::string, std::string>> uncovered;
  for (const auto& r : reads) {
    // A write is not replaced by a projection; the window gate judges it.
    if (r.kind == "write") continue;
    auto root = root_of.find(r.table);
    std::string table = root == root_of.end() ? r.table : root->second;
    bool covered = std::any_of(plan.projections.begin(), plan.projections.end(), [&](auto& p) {
      return p.consumer == r.service && p.source.display() == table;
    });
    if (!covered) uncovered.insert({r.service, table});
  }
  for (const auto& [consumer, table] : uncovered) {
    problems.push_back(
        fmt::format("{} reads {} but has no [[projection]] of it: add one (consumer = \"{}\", "
                    "source = \"{}\") and run the projections step, or stop reading it",
                    consumer, table, consumer, table));
  }
  std::set<std::string> consumers;
  for (const auto& p : plan.projections) consumers.insert(p.consumer);
  for (const auto& c : consumers) {
    nlohmann::json body;
    const journal::SnapshotRecord* cmp = latestFor(compares, c, &body);
    if (!cmp) {
      problems.push_back(
          fmt::format("{}: no compare result; run `dbsplit compare --consumer {}`", c, c));
      continue;
    }
    const journal::SnapshotRecord* relay = latestFor(relay_starts, c, nullptr);
    bool clean = body.value("clean", false);
    if (!clean) {
      problems.push_back(fmt::format("{}: compare #{} of {} found differences: {}", c, cmp->id,
                                     cmp->taken_at, compareDifferences(body)));
    } else if (relay && relay->id > cmp->id) {
      problems.push_back(
          fmt::format("{}: compare #{} of {} is older than the relay's restart #{} of {}; run "
                      "`dbsplit compare --consumer {}` again",
                      c, cmp->id, cmp->taken_at, relay->id, relay->taken_at, c));
    } else {
      fine.push_back(fmt::format(
          "{}: compare #{} of {} clean{}", c, cmp->id, cmp->taken_at,
          relay ? fmt::format(" after relay start #{} of {}", relay->id, relay->taken_at) : ""));
    }
  }
  if (!problems.empty()) return {"compare_clean", false, util::join(problems, "; ")};
  if (fine.empty()) {
    return {"compare_clean", true, "no consumer reads another service's table; nothing to compare"};
  }
  return {"compare_clean", true, util::join(fine, "; ")};
}

engine::Gate windowGate(const plan::Plan& plan, const std::set<std::string>& consumers,
                        const std::map<std::string, std::string>& owner_of,
                        const std::vector<journal::SnapshotRecord>& catalogues,
                        const catalogue::Snapshot* now, const std::string& now_error,
                        std::int64_t now_unix_ms) {
  const std::string name = "deprecation_window";
  const std::string& window_text = plan.revoke.deprecation_window;
  if (consumers.empty()) {
    return {name, true,
            "no service holds privileges on or reads another service's tables; nothing to wait "
            "for"};
  }
  std::string who = util::join({consumers.begin(), consumers.end()}, ", ");
  std::int64_t window = 0;
  try {
    window = util::parseDurationMillis(window_text, "deprecation_window");
  } catch (const Error& e) {
    return {name, false, e.what()};
  }
  if (catalogues.empty()) {
    return {name, false,
            "the journal holds no catalogue snapshot to prove that " + who +
                " stopped reading; store one with `dbsplit catalogue --store` when they stop"};
  }
  const journal::SnapshotRecord* baseline = nullptr;
  const journal::SnapshotRecord* oldest = nullptr;
  for (const auto& s : catalogues) {
    std::int64_t at = parseIsoMillis(s.taken_at);
    if (!oldest || s.taken_at < oldest->taken_at) oldest = &s;
    if (at >= 0 && at <= now_unix_ms - window && (!baseline || s.taken_at > baseline->taken_at)) {
      baseline = &s;
    }
  }
  if (!baseline) {
    std::int64_t ready = parseIsoMillis(oldest->taken_at) + window;
    return {name, false,
            fmt::format("deprecation_window = \"{}\" but the oldest catalogue snapshot (#{} of {}) "
                        "is only {} old: {} left; run the step after {}",
                        window_text, oldest->id, oldest->taken_at,
                        humanDuration(now_unix_ms - parseIsoMillis(oldest->taken_at)),
                        humanDuration(ready - now_unix_ms), util::isoAt(ready))};
  }
  if (!now) {
    return {name, false, "could not read today's statements to compare with: " + now_error};
  }
  auto base_snapshot = parseSnapshot(*baseline);
  if (!base_snapshot) {
    return {name, false,
            fmt::format("catalogue snapshot #{} is not readable; store a new one with `dbsplit "
                        "catalogue --store`",
                        baseline->id)};
  }
  auto before = totals(crossAccesses(*base_snapshot, owner_of, &plan));
  std::vector<CrossAccess> current = crossAccesses(*now, owner_of, &plan);
  auto after = totals(current);
  // Snapshots inside the window, oldest first: when each statement last moved.
  std::vector<std::pair<std::string, std::map<Key, std::int64_t>>> inside;
  for (const auto& s : catalogues) {
    if (s.taken_at <= baseline->taken_at) continue;
    if (auto snap = parseSnapshot(s)) {
      inside.emplace_back(s.taken_at, totals(crossAccesses(*snap, owner_of, &plan)));
    }
  }
  std::sort(inside.begin(), inside.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> offending;
  bool wrote = false;  // an offender writes: the message says "read or wrote"
  std::set<Key> listed, writes;
  // A statement that reads and writes the table is shown as a write.
  for (const auto& a : current) {
    if (a.kind == "write") writes.insert(keyOf(a));
  }
  for (const auto& access : current) {
    Key k = keyOf(access);
    if (!listed.insert(k).second) continue;
    CrossAccess a = access;
    if (writes.count(k)) a.kind = "write";
    std::int64_t was = before.count(k) ? before.at(k) : 0;
    std::int64_t is = after.at(k);
    if (is == was) continue;
    std::string last_below = baseline->taken_at;
    for (const auto& [at, counts] : inside) {
      auto it = counts.find(k);
      if (it == counts.end() || it->second < is) last_below = at;
    }
    wrote = wrote || a.kind == "write";
    offending.push_back(fmt::format("{}: fingerprint {}, {}, last seen after {}: {}{}", describe(a),
                                    a.fingerprint.empty() ? "?" : a.fingerprint,
                                    is > was ? fmt::format("{} call(s) in the window", is - was)
                                             : std::string("statistics were reset in the window"),
                                    last_below, shortStatement(a.statement), waiverNote(plan, a)));
  }
  if (offending.empty()) {
    std::string quiet = fmt::format(
        "catalogue snapshot #{} of {} (older than {}) against now: no read or write by {} of a "
        "table its service does not own",
        baseline->id, baseline->taken_at, window_text, who);
    std::vector<std::string> idle = idleConsumers(consumers, *base_snapshot, *now);
    if (idle.empty()) return {name, true, quiet};
    // "No read" proves nothing about a service that ran nothing at all.
    std::string silence = fmt::format(
        "{} ran no statement at all in the window (no call on any table, its own included), so "
        "their silence proves nothing: the sources may not see them, or they were down",
        util::join(idle, ", "));
    if (plan.revoke.acknowledge_idle_window) {
      return {name, true,
              fmt::format("{}; {} (accepted: acknowledge_idle_window = true)", quiet, silence)};
    }
    return {name, false,
            fmt::format("{}; but {}. Check that the catalogue sources cover their roles, or set "
                        "[step.revoke] acknowledge_idle_window = true to accept an idle window",
                        quiet, silence)};
  }
  return {name, false,
          fmt::format("{} statement(s) {} tables their service does not own since catalogue "
                      "snapshot #{} of {} (window {}): {}; {}, then wait the window out",
                      offending.size(), wrote ? "read or wrote" : "read", baseline->id,
                      baseline->taken_at, window_text, util::join(offending, "; "),
                      wrote ? "move reads to projections and writes to the owner's API"
                            : "move them to projections")};
}

engine::Gate observeGate(const std::vector<CrossAccess>& today, const std::string& where) {
  std::vector<std::string> lines;
  std::set<Key> listed;
  auto counts = totals(today);
  for (const auto& a : today) {
    Key k = keyOf(a);
    if (!listed.insert(k).second || counts.at(k) == 0) continue;
    lines.push_back(fmt::format("{}: fingerprint {}, {} call(s): {}", describe(a),
                                a.fingerprint.empty() ? "?" : a.fingerprint, counts.at(k),
                                shortStatement(a.statement)));
  }
  std::string hint =
      "nothing is revoked in observe mode; set [step.revoke] mode = \"enforce\" to revoke";
  if (lines.empty()) {
    return {"observe", false,
            fmt::format("mode = \"observe\": no statement in {} would fail after the revoke; {}",
                        where, hint)};
  }
  return {"observe", false,
          fmt::format("mode = \"observe\": {} statement(s) in {} would fail with permission "
                      "denied (42501) after the revoke: {}; {}",
                      lines.size(), where, util::join(lines, "; "), hint)};
}

}  // namespace dbsplit::steps::revoke
