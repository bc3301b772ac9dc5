// Catalog reads for the outbox step (see outbox_catalog.h).
#include "steps/outbox/catalog.h"

#include "fmt/format.h"
#include "sql/quote.h"

namespace dbsplit::steps::outbox {
namespace {

// A type whose default btree opclass matches it exactly, and lives in
// pg_catalog, can be compared with IS DISTINCT FROM inside the trigger
// function, whose search_path is pinned to pg_catalog. Anything else (json,
// point, a domain over a domain, an extension's type such as hstore whose `=`
// is in the extension's schema) is compared through its text form, which is
// always defined and needs no operator lookup.
constexpr const char* kColumns = R"SQL(
SELECT a.attname,
       EXISTS (SELECT 1
                 FROM pg_catalog.pg_opclass oc
                 JOIN pg_catalog.pg_am am ON am.oid = oc.opcmethod
                WHERE am.amname = 'btree' AND oc.opcdefault
                  AND oc.opcnamespace = 'pg_catalog'::pg_catalog.regnamespace
                  AND oc.opcintype = CASE WHEN t.typtype = 'd' THEN t.typbasetype
                                          ELSE a.atttypid END)
  FROM pg_catalog.pg_attribute a
  JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
 WHERE a.attrelid = $1::pg_catalog.oid AND a.attnum > 0 AND NOT a.attisdropped
 ORDER BY a.attnum)SQL";

constexpr const char* kPrimaryKey = R"SQL(
SELECT a.attname
  FROM pg_catalog.pg_index i
  CROSS JOIN LATERAL pg_catalog.unnest(i.indkey::pg_catalog.int2[]) WITH ORDINALITY AS k(attnum, ord)
  JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
 WHERE i.indrelid = $1::pg_catalog.oid AND i.indisprimary
 ORDER BY k.ord)SQL";

}  // namespace

std::optional<TableFacts> readTable(pg::Session& catalog, const plan::QualifiedName& table) {
  pg::Result rel = catalog.execParams(
      "SELECT c.oid::text, pg_get_userbyid(c.relowner), c.relkind = 'p'"
      "  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
      " WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')",
      table.schema, table.name);
  if (rel.empty()) return std::nullopt;
  TableFacts facts;
  std::string oid = rel[0][0].c_str();
  facts.owner = rel[0][1].c_str();
  facts.partitioned = rel[0][2].as<bool>();
  for (const auto& row : catalog.execParams(kColumns, oid)) {
    facts.columns.push_back({row[0].c_str(), row[1].as<bool>()});
  }
  for (const auto& row : catalog.execParams(kPrimaryKey, oid)) {
    facts.primary_key.push_back(row[0].c_str());
  }
  for (const auto& row : catalog.execParams(
           "SELECT tgname FROM pg_trigger WHERE tgrelid = $1::oid AND tgname IN ($2, $3)"
           " ORDER BY tgname",
           oid, std::string(kRowTrigger), std::string(kTruncateTrigger))) {
    facts.triggers.push_back(row[0].c_str());
  }
  if (facts.partitioned) {
    for (const auto& row : catalog.execParams(
             "SELECT n.nspname, c.relname FROM pg_partition_tree($1::oid::regclass) t"
             "  JOIN pg_class c ON c.oid = t.relid JOIN pg_namespace n ON n.oid = c.relnamespace"
             " WHERE t.level > 0 AND c.relkind IN ('r', 'p')"
             " ORDER BY t.level, n.nspname, c.relname",
             oid)) {
      facts.partitions.push_back({row[0].c_str(), row[1].c_str()});
    }
  }
  return facts;
}

std::vector<UnguardedPartition> unguardedPartitions(pg::Session& catalog) {
  // The table's own trigger calls the function without arguments, a
  // partition's with 'partition' (outbox_sql.h).
  std::vector<UnguardedPartition> out;
  for (const auto& row : catalog.execParams(
           "SELECT quote_ident(rn.nspname) || '.' || quote_ident(r.relname),\n"
           "       quote_ident(cn.nspname) || '.' || quote_ident(c.relname),\n"
           "       quote_ident(fn.nspname) || '.' || quote_ident(f.proname)\n"
           "  FROM pg_class r\n"
           "  JOIN pg_namespace rn ON rn.oid = r.relnamespace\n"
           "  JOIN pg_trigger t ON t.tgrelid = r.oid AND t.tgname = $1 AND t.tgnargs = 0\n"
           "  JOIN pg_proc f ON f.oid = t.tgfoid\n"
           "  JOIN pg_namespace fn ON fn.oid = f.pronamespace\n"
           "  CROSS JOIN LATERAL pg_partition_tree(r.oid) p\n"
           "  JOIN pg_class c ON c.oid = p.relid\n"
           "  JOIN pg_namespace cn ON cn.oid = c.relnamespace\n"
           " WHERE r.relkind = 'p' AND p.level > 0 AND c.relkind IN ('r', 'p')\n"
           "   AND NOT EXISTS (SELECT FROM pg_trigger x WHERE x.tgrelid = c.oid AND x.tgname = "
           "$1)\n"
           " ORDER BY 1, p.level, 2",
           std::string(kTruncateTrigger))) {
    UnguardedPartition u{row[0].c_str(), row[1].c_str(), ""};
    u.fix = fmt::format(
        "CREATE TRIGGER {} BEFORE TRUNCATE ON {} FOR EACH STATEMENT EXECUTE FUNCTION "
        "{}('partition');",
        sql::quoteIdent(kTruncateTrigger), u.partition, row[2].c_str());
    out.push_back(std::move(u));
  }
  return out;
}

ServiceFacts readService(pg::Session& catalog, const std::string& service) {
  ServiceFacts facts;
  facts.group_exists =
      catalog.scalar("SELECT 1 FROM pg_roles WHERE rolname = $1", service).has_value();
  facts.schema_owner = catalog.scalar(
      "SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = $1", service);
  pg::Result outbox = catalog.execParams(
      "SELECT coalesce(obj_description(c.oid, 'pg_class'), '')"
      "  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
      " WHERE n.nspname = $1 AND c.relname = 'outbox'",
      service);
  facts.outbox_exists = !outbox.empty();
  if (facts.outbox_exists) facts.outbox_comment = outbox[0][0].c_str();
  return facts;
}

bool functionExists(pg::Session& catalog, const plan::QualifiedName& function) {
  return catalog
      .scalar(
          "SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
          " WHERE n.nspname = $1 AND p.proname = $2",
          function.schema, function.name)
      .has_value();
}

}  // namespace dbsplit::steps::outbox
