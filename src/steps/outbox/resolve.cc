// Resolves the plan's [[event]]s against the live catalog: which columns are
// published, which key names the aggregate, and whether the database is ready
// (schema and group from `ownership`). Every problem is reported at once.
#include <algorithm>

#include "fmt/format.h"
#include "steps/outbox/catalog.h"
#include "steps/outbox/outbox.h"
#include "util/text.h"

namespace dbsplit::steps::outbox {
namespace {

struct Problems {
  std::vector<std::string> usage;         // the plan names what is not there: exit 2
  std::vector<std::string> precondition;  // the database is not ready: exit 3
};

bool contains(const std::vector<std::string>& list, const std::string& v) {
  return std::find(list.begin(), list.end(), v) != list.end();
}

std::vector<std::string> names(const std::vector<Column>& columns) {
  std::vector<std::string> out;
  for (const Column& c : columns) out.push_back(c.name);
  return out;
}

const Column* findColumn(const TableFacts& t, const std::string& name) {
  for (const Column& c : t.columns) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

// Columns named under `key` must exist; returns them resolved.
std::vector<Column> existing(const plan::Event& e, const TableFacts& t, const std::string& key,
                             const std::vector<std::string>& wanted, Problems* p) {
  std::vector<Column> out;
  for (const std::string& name : wanted) {
    if (const Column* c = findColumn(t, name)) {
      out.push_back(*c);
      continue;
    }
    std::string hint = util::closestMatch(name, names(t.columns));
    p->usage.push_back(fmt::format("{}: [[event]] {}: column \"{}\" does not exist in {}{}",
                                   e.pos.str(), key, name, e.table.display(),
                                   hint.empty() ? "" : " (did you mean \"" + hint + "\"?)"));
  }
  return out;
}

std::optional<EventSpec> resolveOne(const plan::Plan& plan, const plan::Event& e,
                                    pg::Session& catalog, Problems* p) {
  const plan::Table* declared = plan.findTable(e.table);
  if (!declared) return std::nullopt;  // the plan validator reported it
  std::optional<TableFacts> t = readTable(catalog, e.table);
  if (!t) {
    p->precondition.push_back(
        fmt::format("{}: [[event]] table: {} does not exist (or is not a "
                    "table)",
                    e.pos.str(), e.table.display()));
    return std::nullopt;
  }
  EventSpec spec;
  spec.table = e.table;
  spec.service = declared->owner;
  spec.aggregate_type = e.aggregate_type;
  spec.operations = e.operations;
  spec.publish_truncate = e.publish_truncate;
  if (t->owner != spec.service && plan.findService(t->owner)) {
    p->precondition.push_back(fmt::format(
        "{}: [[event]] table: {} is owned by service \"{}\" in the database, but the plan says "
        "\"{}\" owns it; only the owner publishes its changes",
        e.pos.str(), e.table.display(), t->owner, spec.service));
  }
  existing(e, *t, "exclude", e.exclude, p);
  if (e.columns.empty()) {
    for (const Column& c : t->columns) {
      if (!contains(e.exclude, c.name)) spec.payload.push_back(c);
    }
  } else {
    spec.payload = existing(e, *t, "columns", e.columns, p);
  }
  if (!e.aggregate_id.empty()) {
    spec.key = existing(e, *t, "aggregate_id", e.aggregate_id, p);
  } else if (t->primary_key.empty()) {
    p->precondition.push_back(fmt::format(
        "{}: [[event]] aggregate_id: {} has no primary key, so there is nothing to name the "
        "aggregate by; declare aggregate_id = [\"col\", ...] (a unique column set)",
        e.pos.str(), e.table.display()));
  } else {
    for (const std::string& k : t->primary_key) {
      if (contains(e.exclude, k)) {
        p->usage.push_back(fmt::format(
            "{}: [[event]] exclude: \"{}\" is a primary key column of {}, which names the "
            "aggregate; publish it or declare another aggregate_id",
            e.pos.str(), k, e.table.display()));
      }
    }
    spec.key = existing(e, *t, "aggregate_id (primary key)", t->primary_key, p);
  }
  if (spec.payload.empty() && e.columns.empty()) {
    p->usage.push_back(fmt::format("{}: [[event]] exclude: leaves no column of {} to publish",
                                   e.pos.str(), e.table.display()));
  }
  return spec;
}

void checkService(const plan::Plan& plan, const std::string& service, pg::Session& catalog,
                  Problems* p) {
  ServiceFacts s = readService(catalog, service);
  const plan::Service* declared = plan.findService(service);
  std::string where = declared ? declared->pos.str() + ": " : "";
  if (!s.group_exists || !s.schema_owner) {
    p->precondition.push_back(fmt::format(
        "{}service \"{}\" has no {}; its outbox lives in schema \"{}\" owned by group role "
        "\"{}\": run `dbsplit run ownership` first",
        where, service, !s.group_exists ? "group role" : "schema", service, service));
  } else if (*s.schema_owner != service) {
    p->precondition.push_back(
        fmt::format("{}schema \"{}\" is owned by \"{}\", not by the service's group role \"{}\": "
                    "run `dbsplit run ownership` first",
                    where, service, *s.schema_owner, service));
  }
}

}  // namespace

std::vector<std::pair<std::string, std::vector<EventSpec>>> resolveEvents(const plan::Plan& plan,
                                                                          pg::Session& catalog) {
  Problems p;
  std::vector<std::pair<std::string, std::vector<EventSpec>>> out;
  for (const plan::Event& e : plan.events) {
    std::optional<EventSpec> spec = resolveOne(plan, e, catalog, &p);
    if (!spec) continue;
    auto it = std::find_if(out.begin(), out.end(),
                           [&](const auto& entry) { return entry.first == spec->service; });
    if (it == out.end()) {
      checkService(plan, spec->service, catalog, &p);
      out.push_back({spec->service, {}});
      it = out.end() - 1;
    }
    it->second.push_back(std::move(*spec));
  }
  if (!p.usage.empty()) {
    std::vector<std::string> all = p.usage;
    all.insert(all.end(), p.precondition.begin(), p.precondition.end());
    throw Error::usage("outbox_plan_invalid",
                       fmt::format("the plan's [[event]]s do not match the database ({} "
                                   "problem(s)); nothing changed",
                                   all.size()),
                       "fix the plan's [[event]] entries")
        .withDetails(all);
  }
  if (!p.precondition.empty()) {
    throw Error::precondition("outbox_not_ready",
                              fmt::format("the database is not ready for the outbox step ({} "
                                          "problem(s)); nothing changed",
                                          p.precondition.size()),
                              "see each line; most often: dbsplit run ownership")
        .withDetails(p.precondition);
  }
  return out;
}

}  // namespace dbsplit::steps::outbox
