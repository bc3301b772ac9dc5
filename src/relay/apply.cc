#include "relay/apply.h"

#include <map>
#include <optional>

#include "fmt/format.h"
#include "nlohmann/json.hpp"
#include "sql/quote.h"
#include "sql/template.h"
#include "util/text.h"

namespace dbsplit::relay {
namespace {

Error badEvent(const OutboxEvent& e, const ProjectionSpec& p, const std::string& why) {
  return Error::stepFailed(
      "relay_bad_event",
      fmt::format("event {} (seq {}) of {} cannot be applied to projection {}: {}; the batch "
                  "was not applied",
                  e.id, e.seq, p.outbox.display(), p.id(), why),
      fmt::format("fix the source or the plan (schema drift?), or skip this one event "
                  "explicitly: dbsplit relay --consumer {} --skip-event {}",
                  p.consumer, e.id));
}

std::string columnList(const ProjectionSpec& p) {
  std::vector<std::string> names;
  for (const auto& c : p.columns) names.push_back(c.name);
  return sql::quoteIdentList(names);
}

std::string keyList(const ProjectionSpec& p) { return sql::quoteIdentList(p.key); }

std::string upsertSql(const ProjectionSpec& p) {
  std::string sets;
  for (const auto& c : p.columns) {
    if (std::find(p.key.begin(), p.key.end(), c.name) != p.key.end()) continue;
    if (!sets.empty()) sets += ",\n    ";
    sets += fmt::format("{0} = EXCLUDED.{0}", sql::quoteIdent(c.name));
  }
  return sql::renderTemplate("projections/upsert.sql",
                             {{"target", p.target.quoted()},
                              {"columns", columnList(p)},
                              {"key", keyList(p)},
                              {"action", sets.empty() ? "NOTHING" : "UPDATE SET\n    " + sets}});
}

std::string deleteSql(const ProjectionSpec& p) {
  std::string match;
  for (const auto& k : p.key) {
    if (!match.empty()) match += "\n   AND ";
    match += fmt::format("t.{0} = d.{0}", sql::quoteIdent(k));
  }
  return sql::renderTemplate("projections/delete.sql",
                             {{"target", p.target.quoted()}, {"match", match}});
}

struct Collapsed {
  bool truncated = false;
  // key text -> (op, payload) of the key's last event
  std::map<std::string, std::pair<char, const OutboxEvent*>> last;
};

// Validates and collapses the events of one projection; throws badEvent.
Collapsed collapse(const ProjectionSpec& p, const std::vector<OutboxEvent>& events,
                   const std::set<std::string>& skip_ids, ApplyResult* result) {
  Collapsed out;
  const std::string source = p.source.display();
  for (const OutboxEvent& e : events) {
    if (e.source_table != source) continue;
    if (skip_ids.count(e.id)) {
      if (result) result->skipped.push_back(&e);
      continue;
    }
    if (e.op == 't') {
      out.truncated = true;
      out.last.clear();
      continue;
    }
    if (e.op != 'c' && e.op != 'u' && e.op != 'd') {
      throw badEvent(e, p, fmt::format("unknown op \"{}\"", e.op));
    }
    nlohmann::json payload = nlohmann::json::parse(e.payload, nullptr, false);
    if (payload.is_discarded() || !payload.is_object()) {
      throw badEvent(e, p, "the payload is not a JSON object");
    }
    const bool deletes = e.op == 'd';
    std::string key;
    for (const auto& c : p.columns) {
      bool is_key = std::find(p.key.begin(), p.key.end(), c.name) != p.key.end();
      if (!is_key && deletes) continue;
      auto it = payload.find(c.name);
      if (it == payload.end()) {
        throw badEvent(e, p, fmt::format("the payload has no column \"{}\"", c.name));
      }
      if (is_key && it->is_null()) {
        throw badEvent(e, p, fmt::format("key column \"{}\" is null in the payload", c.name));
      }
    }
    for (const auto& k : p.key) key += payload[k].dump() + '\x1f';
    out.last[key] = {e.op, &e};
  }
  return out;
}

std::string jsonArray(const std::vector<const OutboxEvent*>& events) {
  std::string out = "[";
  for (size_t i = 0; i < events.size(); ++i) {
    if (i) out += ",";
    out += events[i]->payload;
  }
  return out + "]";
}

}  // namespace

ApplyResult applyEvents(pg::Session& target, const std::vector<const ProjectionSpec*>& specs,
                        const std::vector<OutboxEvent>& events,
                        const std::set<std::string>& skip_ids) {
  ApplyResult result;
  for (size_t i = 0; i < specs.size(); ++i) {
    const ProjectionSpec& p = *specs[i];
    Collapsed c = collapse(p, events, skip_ids, i == 0 ? &result : nullptr);
    if (c.truncated) target.exec("DELETE FROM " + p.target.quoted());
    std::vector<const OutboxEvent*> upserts, deletes;
    for (const auto& [key, v] : c.last) (v.first == 'd' ? deletes : upserts).push_back(v.second);
    if (!upserts.empty()) {
      result.rows_upserted += target.execParams(upsertSql(p), jsonArray(upserts)).affected_rows();
    }
    if (!deletes.empty()) {
      result.rows_deleted += target.execParams(deleteSql(p), jsonArray(deletes)).affected_rows();
    }
  }
  return result;
}

bool applyInPlace(pg::Session& s, const std::vector<const ProjectionSpec*>& specs,
                  const plan::QualifiedName& outbox, std::int64_t lower, std::int64_t upper,
                  const std::string& from, const std::string& to, ApplyResult* result) {
  for (const ProjectionSpec* p : specs) {
    std::vector<std::string> key_exprs, match, row_columns, all, keys, key_present;
    for (const auto& k : p->key) {
      key_exprs.push_back("r." + sql::quoteIdent(k));
      match.push_back(fmt::format("t.{0} = (d.r).{0}", sql::quoteIdent(k)));
      keys.push_back(sql::quoteLiteral(k));
      key_present.push_back("o.payload->>" + sql::quoteLiteral(k) + " IS NOT NULL");
    }
    for (const auto& c : p->columns) {
      row_columns.push_back("(ev.r)." + sql::quoteIdent(c.name));
      all.push_back(sql::quoteLiteral(c.name));
    }
    // An event that does not fit (a TRUNCATE, a payload that is not an object,
    // lacks a column or has a null key) makes the statement fail on purpose
    // (its op cast to int), so the check costs no pass of its own; the caller
    // rolls back and takes the client path, which names the event.
    const std::string fits = fmt::format(
        "(jsonb_typeof(o.payload) = 'object' AND {} AND CASE o.op WHEN 'd' THEN o.payload ?& "
        "ARRAY[{}] WHEN 'c' THEN o.payload ?& ARRAY[{}] WHEN 'u' THEN o.payload ?& ARRAY[{}] "
        "END)",
        util::join(key_present, " AND "), util::join(keys, ", "), util::join(all, ", "),
        util::join(all, ", "));
    const std::string source = p->source.display();
    std::string sets;
    for (const auto& c : p->columns) {
      if (std::find(p->key.begin(), p->key.end(), c.name) != p->key.end()) continue;
      if (!sets.empty()) sets += ",\n    ";
      sets += fmt::format("{0} = EXCLUDED.{0}", sql::quoteIdent(c.name));
    }
    std::string text =
        sql::renderTemplate("projections/apply_in_place.sql",
                            {{"key_exprs", util::join(key_exprs, ", ")},
                             {"outbox", outbox.quoted()},
                             {"target", p->target.quoted()},
                             {"fits", fits},
                             {"match", util::join(match, "\n     AND ")},
                             {"columns", columnList(*p)},
                             {"row_columns", util::join(row_columns, ", ")},
                             {"key", keyList(*p)},
                             {"action", sets.empty() ? "NOTHING" : "UPDATE SET\n    " + sets}});
    result->rows_upserted += s.execParams(text, lower, upper, to, from, source).affected_rows();
  }
  return true;
}

std::optional<Error> findBadEvent(pg::Session& target,
                                  const std::vector<const ProjectionSpec*>& specs,
                                  const std::vector<OutboxEvent>& events,
                                  const std::set<std::string>& skip_ids, const std::string& why) {
  for (const ProjectionSpec* p : specs) {
    const std::string source = p->source.display();
    for (const OutboxEvent& e : events) {
      if (e.source_table != source || skip_ids.count(e.id) || e.op == 't' || e.op == 'd') {
        continue;
      }
      try {
        target.execParams(
            "SELECT (jsonb_populate_record(NULL::" + p->target.quoted() + ", $1::jsonb)).*",
            e.payload);
      } catch (const Error& err) {
        return badEvent(e, *p, err.what());
      }
    }
  }
  (void)why;
  return std::nullopt;
}

}  // namespace dbsplit::relay
