// Compatibility views of schema mode (compat.h).
#include "steps/split/compat.h"

#include <map>
#include <set>

#include "acl/acl.h"
#include "fmt/format.h"
#include "relations/admin.h"
#include "relations/relations.h"
#include "sql/quote.h"
#include "sql/template.h"
#include "util/text.h"
#include "util/time.h"

namespace dbsplit::steps::split {

const char* const kCompatComment =
    "dbsplit compatibility view: sessions opened before the split find the moved table "
    "here; dbsplit split finalize drops it";

namespace {

// A view is dbsplit's when it carries the comment, has the owner of the one
// table it reads, and that table has the view's name in a service's schema:
// a view someone else made, even with the comment copied, is never dropped.
constexpr const char* kCompatViews = R"SQL(
SELECT vn.nspname, v.relname, cn.nspname, pg_catalog.pg_get_userbyid(v.relowner)
  FROM pg_catalog.pg_class v
  JOIN pg_catalog.pg_namespace vn ON vn.oid = v.relnamespace
  JOIN pg_catalog.pg_rewrite w ON w.ev_class = v.oid
  JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass
       AND d.objid = w.oid AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
       AND d.refobjid <> v.oid
  JOIN pg_catalog.pg_class c ON c.oid = d.refobjid
  JOIN pg_catalog.pg_namespace cn ON cn.oid = c.relnamespace
 WHERE v.relkind = 'v'
   AND pg_catalog.obj_description(v.oid, 'pg_class') = $2
   AND c.relkind IN ('r', 'p') AND c.relname = v.relname AND c.relowner = v.relowner
   AND cn.nspname IN (SELECT pg_catalog.json_array_elements_text($1::json))
 GROUP BY 1, 2, 3, 4
HAVING count(DISTINCT d.refobjid) = 1
 ORDER BY 1, 2)SQL";

// backend_start is NULL for a session the connected role may not inspect:
// counted as old, since nothing shows it is new. $2 is when the role's new
// search_path was journaled (after its commit) on dbsplit's clock, $3 the
// server's clock minus dbsplit's in milliseconds.
constexpr const char* kOldSessions = R"SQL(
SELECT count(*), coalesce(min(a.backend_start)::text, '')
  FROM pg_catalog.pg_stat_activity a
 WHERE a.usename = $1 AND a.backend_type = 'client backend'
   AND a.pid <> pg_catalog.pg_backend_pid()
   AND a.application_name NOT LIKE 'dbsplit/%'
   AND (a.backend_start IS NULL
        OR a.backend_start < $2::timestamptz
                             + pg_catalog.make_interval(secs => $3::float8 / 1000)))SQL";

// The server's clock minus ours, in milliseconds (to a round trip's precision).
std::int64_t clockSkewMs(pg::Session& catalog) {
  const std::int64_t before = util::nowUnixMillis();
  const auto server = catalog.scalar(
      "SELECT (extract(epoch FROM pg_catalog.clock_timestamp()) * 1000)::bigint::text");
  const std::int64_t after = util::nowUnixMillis();
  return std::stoll(server.value_or("0")) - (before + after) / 2;
}

std::map<std::string, std::string> templateValues(const CompatView& v) {
  return {{"table", v.view.quoted()},          {"schema", sql::quoteIdent(v.table.schema)},
          {"view", v.view.quoted()},           {"moved", v.table.quoted()},
          {"owner", sql::quoteIdent(v.owner)}, {"comment", sql::quoteLiteral(kCompatComment)}};
}

std::string compatViewSql(const CompatView& v) {
  std::string view = sql::renderTemplate("split/compat_view.sql", templateValues(v));
  if (!v.grant_create) return view;
  while (!view.empty() && view.back() == '\n') view.pop_back();
  return acl::withSchemaCreate(sql::quoteIdent(v.view.schema), v.owner, view) + "\n";
}

}  // namespace

// The move, then the view: one action, so one transaction.
std::string moveWithViewSql(const CompatView& v) {
  return sql::renderTemplate("split/move_with_view.sql", templateValues(v)) + compatViewSql(v);
}

std::string moveBackSql(const CompatView& v) {
  std::map<std::string, std::string> values = templateValues(v);
  values["schema"] = sql::quoteIdent(v.view.schema);
  return sql::renderTemplate("split/move_back.sql", values);
}

std::vector<CompatView> readCompatViews(pg::Session& catalog, const plan::Plan& plan) {
  std::vector<std::string> services;
  for (const plan::Service& s : plan.services) services.push_back(s.name);
  std::vector<CompatView> out;
  const bool superuser = relations::currentUserIsSuperuser(catalog);
  std::set<std::pair<std::string, std::string>> holders;
  if (!superuser) holders = relations::createHolders(catalog);
  for (const auto& row :
       catalog.execParams(kCompatViews, util::jsonList(services), std::string(kCompatComment))) {
    CompatView v;
    v.view = {row[0].as<std::string>(), row[1].as<std::string>()};
    v.table = {row[2].as<std::string>(), row[1].as<std::string>()};
    v.owner = row[3].as<std::string>();
    v.grant_create = !superuser && !holders.count({v.owner, v.view.schema});
    out.push_back(std::move(v));
  }
  return out;
}

std::vector<OldSessions> readOldSessions(pg::Session& catalog, const plan::Plan& plan,
                                         const journal::Journal& journal) {
  std::map<std::string, std::string> changed;  // role -> when its new path was set
  const std::string prefix = "split/search_path/";
  for (const journal::ActionRecord& a : journal.actions("split")) {
    if (a.status == journal::ActionStatus::kApplied && a.id.rfind(prefix, 0) == 0) {
      changed[a.id.substr(prefix.size())] = a.finished_at;
    }
  }
  std::vector<OldSessions> out;
  if (changed.empty()) return out;
  const std::string skew = std::to_string(clockSkewMs(catalog));
  for (const plan::Service& s : plan.services) {
    for (const std::string& role : s.roles) {
      auto at = changed.find(role);
      if (at == changed.end()) continue;
      pg::Result r = catalog.execParams(kOldSessions, role, at->second, skew);
      OldSessions o{role, s.name, r[0][0].as<std::int64_t>(), r[0][1].as<std::string>()};
      if (o.count > 0) out.push_back(std::move(o));
    }
  }
  return out;
}

std::vector<engine::Action> retireActions(const std::vector<CompatView>& views) {
  std::vector<engine::Action> actions;
  for (const CompatView& v : views) {
    engine::Action a;
    a.id = "finalize/view/" + v.view.display();
    a.description = fmt::format("drop the compatibility view {} (the table is {})",
                                v.view.display(), v.table.display());
    a.forward = sql::renderTemplate("split/compat_view_drop.sql", templateValues(v));
    a.inverse = compatViewSql(v);
    a.lock = {"ACCESS EXCLUSIVE", v.view.display()};
    actions.push_back(std::move(a));
  }
  return actions;
}

}  // namespace dbsplit::steps::split
