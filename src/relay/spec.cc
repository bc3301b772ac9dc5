// Resolves [[projection]]s against the source catalog (see spec.h).
#include "relay/spec.h"

#include <algorithm>
#include <map>

#include "fmt/format.h"
#include "pg/conninfo.h"
#include "util/text.h"

namespace dbsplit::relay {
namespace {

struct SourceFacts {
  bool exists = false;
  std::vector<ColumnSpec> columns;
  // Column sets of the primary key and of unique indexes over NOT NULL columns.
  std::vector<std::vector<std::string>> unique_keys;
};

SourceFacts readSource(pg::Session& s, const plan::QualifiedName& table) {
  SourceFacts f;
  auto oid = s.scalar(
      "SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
      " WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')",
      table.schema, table.name);
  if (!oid) return f;
  f.exists = true;
  for (const auto& row :
       s.execParams("SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute"
                    " WHERE attrelid = $1::oid AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
                    *oid)) {
    f.columns.push_back({row[0].c_str(), row[1].c_str()});
  }
  // A unique index over NOT NULL columns (a primary key is one) makes a key.
  for (const auto& row :
       s.execParams("SELECT array_to_json(array_agg(a.attname ORDER BY k.i))::text"
                    "  FROM pg_index x"
                    "  CROSS JOIN LATERAL unnest(x.indkey::int2[]) WITH ORDINALITY AS k(attnum, i)"
                    "  JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum"
                    " WHERE x.indrelid = $1::oid AND x.indisunique AND x.indpred IS NULL"
                    "   AND x.indexprs IS NULL"
                    " GROUP BY x.indexrelid HAVING bool_and(a.attnotnull)",
                    *oid)) {
    f.unique_keys.push_back(nlohmann::json::parse(row[0].c_str()).get<std::vector<std::string>>());
  }
  return f;
}

std::vector<std::string> names(const std::vector<ColumnSpec>& cols) {
  std::vector<std::string> out;
  for (const auto& c : cols) out.push_back(c.name);
  return out;
}

}  // namespace

std::string ProjectionSpec::primaryKeyName() const { return plan::primaryKeyNameOf(target.name); }

const ColumnSpec& ProjectionSpec::column(const std::string& name) const {
  for (const auto& c : columns) {
    if (c.name == name) return c;
  }
  throw Error::stepFailed("internal", "projection " + id() + " has no column " + name);
}

std::string serviceDsn(const std::string& main_dsn, const std::string& service_database) {
  return pg::buildConninfo(main_dsn, pg::parseConninfo(service_database));
}

std::string ownerDsn(const plan::Plan& plan, const std::string& main_dsn,
                     const std::string& owner) {
  const plan::Service* s = plan.findService(owner);
  if (plan.split.mode != "database" || !s || s->database.empty()) return "";
  return serviceDsn(main_dsn, s->database);
}

bool databaseMayExist(pg::Session& source, const std::string& main_dsn, const std::string& dsn) {
  auto main = pg::parseConninfo(main_dsn), there = pg::parseConninfo(dsn);
  if (main["host"] != there["host"] || main["hostaddr"] != there["hostaddr"] ||
      main["port"] != there["port"] || there["dbname"].empty()) {
    return true;  // another server: only a connection can tell
  }
  return source.scalar("SELECT 1 FROM pg_catalog.pg_database WHERE datname = $1", there["dbname"])
      .has_value();
}

namespace {

// A read-only session on an owner's own database, failing fast when it is not there.
pg::ConnectOptions ownerConnect(const plan::Plan& plan, const std::string& dsn) {
  pg::ConnectOptions o;
  o.dsn = dsn;
  o.application_name = "dbsplit/" + plan.migration.name + "/relay";
  o.read_only = true;
  o.connect_timeout_s = 5;
  return o;
}

}  // namespace

Error projectionsNotReady(const std::vector<std::string>& problems, const std::string& hint) {
  return Error::precondition("projections_not_ready",
                             fmt::format("the database is not ready for projections ({} "
                                         "problem(s)); nothing changed",
                                         problems.size()),
                             hint)
      .withDetails(problems);
}

OutboxCutover readCutover(pg::Session& there, pg::Session& source, const std::string& owner) {
  OutboxCutover c;
  const plan::QualifiedName outbox = plan::outboxOf(owner);
  if (!there.scalar("SELECT to_regclass($1)::text", outbox.quoted())) return c;
  const bool source_gone = !source.scalar("SELECT to_regclass($1)::text", outbox.quoted());
  // The table split.cutover writes (src/cutover/cutover.h, kCutoverTable); its
  // done_at is set with the cutover's mark and outlives the subscription.
  const plan::QualifiedName table{owner, "dbsplit_cutover"};
  if (there.scalar("SELECT to_regclass($1)::text", table.quoted())) {
    auto r = there.execParams(
        "SELECT seq, snapshot::text, source_snapshot::text, current_database(),"
        " done_at IS NOT NULL FROM " +
            table.quoted() + " WHERE outbox = $1",
        outbox.display());
    if (!r.empty()) {
      c.seq = r[0][0].as<std::int64_t>();
      c.snapshot = r[0][1].c_str();
      c.source_snapshot = r[0][2].c_str();
      c.database = r[0][3].c_str();
      c.done = std::string(r[0][4].c_str()) == "t" || source_gone;
    }
  }
  return c;
}

std::string movedOutboxDsn(const plan::Plan& plan, pg::Session& source, const std::string& main_dsn,
                           const std::string& owner) {
  const std::string dsn = ownerDsn(plan, main_dsn, owner);
  if (dsn.empty() || !databaseMayExist(source, main_dsn, dsn)) return "";
  std::unique_ptr<pg::Session> there;
  try {
    there = pg::Session::connect(ownerConnect(plan, dsn));
  } catch (const Error&) {
    return "";  // not created (yet): the outbox is on the source
  }
  return readCutover(*there, source, owner).done ? dsn : "";
}

std::vector<ProjectionSpec> resolveProjections(const plan::Plan& plan, pg::Session& source,
                                               const std::string& main_dsn,
                                               const std::string& only_consumer) {
  std::vector<std::string> usage, precondition;
  std::vector<ProjectionSpec> out;
  std::map<std::string, std::unique_ptr<pg::Session>> owner_dbs;  // owner -> its own database
  for (const plan::Projection& p : plan.projections) {
    if (!only_consumer.empty() && p.consumer != only_consumer) continue;
    ProjectionSpec spec;
    spec.consumer = p.consumer;
    spec.source = p.source;
    spec.target = {p.consumer, p.name};
    const plan::Table* t = plan.findTable(p.source);
    spec.owner = t ? t->owner : "";
    spec.outbox = plan::outboxOf(spec.owner);
    if (!spec.owner.empty()) spec.owner_dsn = ownerDsn(plan, main_dsn, spec.owner);
    spec.key = p.key;
    if (const plan::Service* s = plan.findService(p.consumer); s && !s->database.empty()) {
      spec.database_service = s->name;
      spec.target_dsn = serviceDsn(main_dsn, s->database);
    }
    SourceFacts f = readSource(source, p.source);
    spec.location = p.source;
    // Step 6 (schema mode) moves the owner's tables into the owner's schema;
    // events keep naming the table as the plan does.
    if (!f.exists && !spec.owner.empty() && spec.owner != p.source.schema) {
      plan::QualifiedName moved{spec.owner, p.source.name};
      f = readSource(source, moved);
      if (f.exists) spec.location = moved;
    }
    // After a database-mode split's `split finalize` the table lives in the
    // owner's own database only: its columns and keys are read there.
    if (!f.exists && !spec.owner_dsn.empty()) {
      auto it = owner_dbs.find(spec.owner);
      if (it == owner_dbs.end()) {
        std::unique_ptr<pg::Session> there;
        try {
          there = pg::Session::connect(ownerConnect(plan, spec.owner_dsn));
        } catch (const Error&) {
        }
        it = owner_dbs.emplace(spec.owner, std::move(there)).first;
      }
      if (it->second) {
        for (const plan::QualifiedName& n :
             {plan::QualifiedName{spec.owner, p.source.name}, p.source}) {
          f = readSource(*it->second, n);
          if (f.exists) break;
        }
      }
    }
    if (!f.exists) {
      precondition.push_back(
          fmt::format("{}: [[projection]] source: {} does not exist (or is not "
                      "a table)",
                      p.pos.str(), p.source.display()));
      continue;
    }
    for (const std::string& c : p.columns) {
      auto it = std::find_if(f.columns.begin(), f.columns.end(),
                             [&](const ColumnSpec& s) { return s.name == c; });
      if (it != f.columns.end()) {
        spec.columns.push_back(*it);
        continue;
      }
      std::string hint = util::closestMatch(c, names(f.columns));
      usage.push_back(
          fmt::format("{}: [[projection]] columns: column \"{}\" does not exist in "
                      "{}{}",
                      p.pos.str(), c, p.source.display(),
                      hint.empty() ? "" : " (did you mean \"" + hint + "\"?)"));
    }
    std::vector<std::string> sorted_key = p.key;
    std::sort(sorted_key.begin(), sorted_key.end());
    bool unique = false;
    for (auto k : f.unique_keys) {
      std::sort(k.begin(), k.end());
      unique = unique || k == sorted_key;
    }
    if (!unique) {
      precondition.push_back(fmt::format(
          "{}: [[projection]] key: ({}) is not unique in {}: no primary key or unique index over "
          "NOT NULL columns matches it, so two source rows could map to one projection row",
          p.pos.str(), util::join(p.key, ", "), p.source.display()));
    }
    out.push_back(std::move(spec));
  }
  if (!usage.empty()) {
    usage.insert(usage.end(), precondition.begin(), precondition.end());
    throw Error::usage("projections_plan_invalid",
                       fmt::format("the plan's [[projection]]s do not match the database ({} "
                                   "problem(s)); nothing changed",
                                   usage.size()),
                       "fix the plan's [[projection]] entries")
        .withDetails(usage);
  }
  if (!precondition.empty()) throw projectionsNotReady(precondition, "see each line");
  return out;
}

std::vector<std::string> consumers(const plan::Plan& plan) {
  std::vector<std::string> out;
  for (const auto& p : plan.projections) {
    if (std::find(out.begin(), out.end(), p.consumer) == out.end()) out.push_back(p.consumer);
  }
  return out;
}

std::vector<std::string> outboxesOf(const std::vector<ProjectionSpec>& specs) {
  std::vector<std::string> out;
  for (const auto& s : specs) {
    if (std::find(out.begin(), out.end(), s.outbox.display()) == out.end()) {
      out.push_back(s.outbox.display());
    }
  }
  return out;
}

}  // namespace dbsplit::relay
