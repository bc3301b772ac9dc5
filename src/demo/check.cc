#include "demo/check.h"

#include <algorithm>
#include <set>

#include "fmt/format.h"
#include "pg/session.h"
#include "sql/quote.h"
#include "util/error.h"
#include "util/text.h"

namespace dbsplit::demo {
namespace {

// The text of column `c` of a ledger row: from its key, else from its values.
std::string ledgerValue(const std::string& c) {
  std::string lit = sql::quoteLiteral(c);
  return fmt::format("coalesce(e.value->'k'->>{0}, e.value->'v'->>{0})", lit);
}

std::string ledgerHas(const std::string& c) {
  std::string lit = sql::quoteLiteral(c);
  return fmt::format("(e.value->'k' ? {0} OR e.value->'v' ? {0})", lit);
}

// Counts the ledger rows `rows` that `relation` (aliased t, joined on
// `join_cols`) does not hold as written: missing, present though deleted, or
// with a compared column of other text. `relation` may be a subquery.
CheckTarget compareRows(pg::Session& s, const std::string& what, const std::string& relation,
                        const std::vector<std::string>& join_cols,
                        const std::vector<std::string>& value_cols,
                        const std::vector<nlohmann::json>& rows,
                        const std::string& column_expr_prefix, bool deleted_means_absent) {
  CheckTarget t;
  t.what = what;
  auto col = [&](const std::string& c) {
    return column_expr_prefix.empty()
               ? "t." + sql::quoteIdent(c)
               : fmt::format("t.{}->>{}", column_expr_prefix, sql::quoteLiteral(c));
  };
  std::vector<std::string> on, has, differs;
  for (const auto& c : join_cols) {
    on.push_back(fmt::format("{}::text = {}", col(c), ledgerValue(c)));
    has.push_back(ledgerHas(c));
  }
  for (const auto& c : value_cols) {
    differs.push_back(
        fmt::format("({} AND {}::text IS DISTINCT FROM {})", ledgerHas(c), col(c), ledgerValue(c)));
  }
  std::string present = fmt::format("t.{} IS NOT NULL", "present_");
  std::string deleted_check =
      deleted_means_absent ? present : std::string("(t.present_ IS NULL OR t.op <> 'd')");
  std::string sql = fmt::format(
      "SELECT e.value->'k' AS key, count(*) OVER () AS wrong, n.total\n"
      "  FROM jsonb_array_elements($1::jsonb) AS e\n"
      "  CROSS JOIN (SELECT jsonb_array_length($1::jsonb) AS total) AS n\n"
      "  LEFT JOIN (SELECT r.*, true AS present_ FROM {} AS r) AS t\n"
      "    ON {}\n"
      " WHERE {}\n"
      "   AND CASE WHEN (e.value->>'d')::boolean THEN {}\n"
      "            ELSE t.present_ IS NULL{}{}\n"
      "       END\n"
      " LIMIT 5",
      relation, util::join(on, "\n   AND "), has.empty() ? "true" : util::join(has, " AND "),
      deleted_check, differs.empty() ? "" : "\n              OR ",
      util::join(differs, "\n              OR "));
  nlohmann::json arr = rows;
  pg::Result r = s.execParams(sql, arr.dump());
  t.rows = static_cast<std::int64_t>(rows.size());
  if (!r.empty()) {
    t.wrong = r[0][1].as<std::int64_t>();
    for (const auto& row : r) t.samples.push_back(row[0].c_str());
  }
  return t;
}

std::unique_ptr<pg::Session> connect(const std::string& dsn) {
  return pg::Session::connect({dsn, "dbsplit/demo/check", true, 10, true});
}

const plan::Table* ownedTable(const plan::Plan& plan, const std::string& name) {
  for (const auto& t : plan.tables) {
    if (t.name.name == name) return &t;
  }
  return nullptr;
}

std::vector<std::string> primaryKey(pg::Session& s, const Location& at) {
  pg::Result r = s.execParams(
      "SELECT a.attname FROM pg_index i\n"
      "  JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)\n"
      " WHERE i.indrelid = (quote_ident($1) || '.' || quote_ident($2))::regclass\n"
      "   AND i.indisprimary\n"
      " ORDER BY array_position(i.indkey::int2[], a.attnum)",
      at.schema, at.name);
  std::vector<std::string> out;
  for (const auto& row : r) out.push_back(row[0].c_str());
  return out;
}

}  // namespace

std::optional<Location> locate(const std::vector<std::string>& dsns,
                               const std::vector<std::string>& schemas, const std::string& name) {
  for (const auto& dsn : dsns) {
    std::unique_ptr<pg::Session> s;
    try {
      s = connect(dsn);
    } catch (const Error&) {
      continue;  // a service database step 4 or 6 has not created (yet)
    }
    for (const auto& schema : schemas) {
      auto found = s->scalar(
          "SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace\n"
          " WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')",
          schema, name);
      if (found) return Location{dsn, schema, name};
    }
  }
  return std::nullopt;
}

std::int64_t CheckReport::rows() const {
  std::int64_t n = 0;
  for (const auto& t : targets) n += t.rows;
  return n;
}

std::int64_t CheckReport::wrong() const {
  std::int64_t n = 0;
  for (const auto& t : targets) n += t.wrong;
  return n;
}

CheckReport checkNothingLost(const Ledger& ledger, const CheckInputs& in) {
  CheckReport report;
  for (const auto& [table, rows] : ledger.snapshot()) {
    const plan::Table* owned = ownedTable(in.plan, table);
    const std::string owner = owned ? owned->owner : "";
    std::vector<std::string> value_cols;
    {
      std::set<std::string> seen;
      for (const auto& r : rows) {
        for (const auto& [c, v] : r["v"].items()) seen.insert(c);
      }
      value_cols.assign(seen.begin(), seen.end());
    }
    std::vector<std::string> key_cols;
    for (const auto& [c, v] : rows.front()["k"].items()) key_cols.push_back(c);

    // 1. The owner's table, wherever step 6 put it.
    auto at = locate(in.databases(owner), {owner, "public"}, table);
    if (!at) {
      CheckTarget t;
      t.what = "table " + table;
      t.rows = static_cast<std::int64_t>(rows.size());
      t.wrong = t.rows;
      t.samples.push_back("the table is nowhere to be found");
      report.targets.push_back(t);
      continue;
    }
    {
      auto s = connect(at->dsn);
      report.targets.push_back(compareRows(*s, "table " + at->schema + "." + table,
                                           sql::quoteQualified(at->schema, table), key_cols,
                                           value_cols, rows, "", true));
    }

    if (!owned) continue;
    // 2. Each consumer's projection of it.
    for (const auto& pr : in.plan.projections) {
      if (!(pr.source == owned->name)) continue;
      auto pat = locate(in.databases(pr.consumer), {pr.consumer}, pr.name);
      if (!pat) continue;  // projections not built (yet, or in this build)
      std::vector<std::string> vals;
      for (const auto& c : pr.columns) {
        if (std::find(pr.key.begin(), pr.key.end(), c) == pr.key.end()) vals.push_back(c);
      }
      std::vector<nlohmann::json> relayed;
      for (const auto& r : rows) {
        if (in.projection_epoch_end < 0 || r["e"].get<int>() < in.projection_epoch_end) {
          relayed.push_back(r);
        }
      }
      if (relayed.empty()) continue;
      auto s = connect(pat->dsn);
      report.targets.push_back(
          compareRows(*s, fmt::format("projection {}.{}", pat->schema, pr.name),
                      sql::quoteQualified(pat->schema, pr.name), pr.key, vals, relayed, "", true));
    }

    // 3. The owner's outbox: the latest event of every row written after step 3.
    if (in.outbox_epoch < 0) continue;
    const plan::Event* ev = nullptr;
    for (const auto& e : in.plan.events) {
      if (e.table == owned->name) ev = &e;
    }
    if (!ev) continue;
    auto oat = locate(in.databases(owner), {owner}, "outbox");
    if (!oat) continue;
    std::vector<nlohmann::json> recent;
    for (const auto& r : rows) {
      if (r["e"].get<int>() >= in.outbox_epoch) recent.push_back(r);
    }
    if (recent.empty()) continue;
    auto s = connect(oat->dsn);
    std::vector<std::string> key = primaryKey(*s, *at);
    if (key.empty()) key = key_cols;
    std::vector<std::string> partition;
    for (const auto& c : key) {
      partition.push_back(fmt::format("payload->>{}", sql::quoteLiteral(c)));
    }
    std::string latest = fmt::format(
        "(SELECT DISTINCT ON ({0}) payload, op\n"
        "   FROM {1}\n"
        "  WHERE aggregatetype = {2}\n"
        "  ORDER BY {0}, seq DESC)",
        util::join(partition, ", "), sql::quoteQualified(oat->schema, "outbox"),
        sql::quoteLiteral(ev->aggregate_type));
    // Published columns only: the payload carries exactly those.
    std::vector<std::string> published;
    for (const auto& c : value_cols) {
      bool excluded = std::find(ev->exclude.begin(), ev->exclude.end(), c) != ev->exclude.end();
      bool listed = ev->columns.empty() ||
                    std::find(ev->columns.begin(), ev->columns.end(), c) != ev->columns.end();
      if (listed && !excluded) published.push_back(c);
    }
    report.targets.push_back(compareRows(*s, fmt::format("events in {}.outbox", oat->schema),
                                         latest, key, published, recent, "payload", false));
  }
  return report;
}

}  // namespace dbsplit::demo
