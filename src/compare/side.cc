// The queries of one compare side (see side.h).
#include "compare/side.h"

#include "fmt/format.h"
#include "nlohmann/json.hpp"
#include "sql/quote.h"
#include "util/text.h"

namespace dbsplit::compare {
namespace {

// Row comparison of the key against $first.. ($first+n-1), e.g.
// ("a", "b") >= ($1::int4, $2::text).
std::string compareKey(const SideSql& s, const char* op, size_t first) {
  std::vector<std::string> params;
  for (size_t i = 0; i < s.key_order.size(); ++i) {
    params.push_back(fmt::format("${}{}", first + i, s.key_cast[i]));
  }
  if (params.size() == 1) return fmt::format("{} {} {}", s.key_order[0], op, params[0]);
  return fmt::format("({}) {} ({})", util::join(s.key_order, ", "), op, util::join(params, ", "));
}

Key keyOf(const pg::Row& row, size_t n) {
  Key k;
  for (size_t i = 0; i < n; ++i) k.push_back(row[static_cast<int>(i)].c_str());
  return k;
}

}  // namespace

std::unique_ptr<pg::Session> openSide(const std::string& dsn, const std::string& migration) {
  pg::ConnectOptions o;
  o.dsn = dsn;
  o.application_name = "dbsplit/" + migration + "/compare";
  o.read_only = true;
  auto s = pg::Session::connect(o);
  // enable_seqscan off: every chunk is a key range, best read through the key's
  // index even when the planner has no statistics yet (a freshly filled
  // projection), where it would otherwise scan the whole table for each chunk.
  s->exec(
      "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres';"
      " SET extra_float_digits = 1; SET bytea_output = 'hex'; SET enable_seqscan = off");
  return s;
}

Relation describe(pg::Session& session, const plan::QualifiedName& name) {
  Relation rel;
  rel.name = name;
  // Tables only: after a schema-mode split the old name is a compatibility view
  // (steps/split/compat.h) and the table is in its owner's schema.
  auto oid = session.scalar(
      "SELECT c.oid::text FROM pg_catalog.pg_class c\n"
      " WHERE c.oid = pg_catalog.to_regclass($1) AND c.relkind IN ('r', 'p', 'm', 'f')",
      name.quoted());
  if (!oid) return rel;
  rel.found = true;
  // Never analyzed (reltuples -1): a rough guess from the size, ~100 bytes a row.
  rel.estimated_rows =
      std::stod(session
                    .scalar("SELECT CASE WHEN reltuples >= 0 THEN reltuples\n"
                            "            ELSE pg_relation_size(oid) / 100 END::text\n"
                            "  FROM pg_class WHERE oid = $1::oid",
                            *oid)
                    .value_or("-1"));
  pg::Result r = session.execParams(
      "SELECT a.attname,\n"
      "       format_type(b.oid, NULL),\n"
      "       b.typname,\n"
      "       b.typtype,\n"
      "       coalesce(co.collname, ''),\n"
      "       a.attnotnull\n"
      "  FROM pg_attribute a\n"
      "  JOIN pg_type t ON t.oid = a.atttypid\n"
      "  JOIN pg_type b ON b.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END\n"
      "  LEFT JOIN pg_collation co ON co.oid = a.attcollation\n"
      " WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped\n"
      " ORDER BY a.attnum",
      *oid);
  for (const auto& row : r) {
    Column c;
    c.name = row[0].c_str();
    c.type = row[1].c_str();
    c.base_type = row[2].c_str();
    c.typtype = row[3].c_str()[0];
    c.collation = row[4].c_str();
    c.not_null = std::string(row[5].c_str()) == "t";
    rel.columns.push_back(std::move(c));
  }
  return rel;
}

Side::Side(pg::Session& session, const SideSql& sql, std::string label)
    : session_(session), sql_(sql), label_(std::move(label)) {}

pg::Result Side::query(const std::string& sql, const std::vector<std::string>& params) {
  ++queries_;
  return session_.execParamList(sql, std::vector<pg::Param>(params.begin(), params.end()));
}

std::string Side::keyList() const { return util::join(sql_.key_text, ", "); }

std::string Side::where(const Range& r, std::vector<std::string>* params) const {
  std::vector<std::string> conds;
  if (r.lo) {
    conds.push_back(compareKey(sql_, ">=", params->size() + 1));
    params->insert(params->end(), r.lo->begin(), r.lo->end());
  }
  if (r.hi) {
    conds.push_back(compareKey(sql_, "<", params->size() + 1));
    params->insert(params->end(), r.hi->begin(), r.hi->end());
  }
  if (conds.empty()) return "";
  return "\n WHERE " + util::join(conds, "\n   AND ");
}

void Side::checkKey(const std::vector<std::string>& key_names) {
  try {
    query(fmt::format("SELECT 1 FROM {} WHERE false ORDER BY {}", sql_.table,
                      util::join(sql_.key_order, ", ")),
          {});
  } catch (const Error& e) {
    throw Error::precondition(
        "no_usable_key",
        fmt::format("{} has no usable key: its key ({}) cannot be ordered ({})", label_,
                    util::join(key_names, ", "), e.what()),
        "declare a [[projection]] key of orderable columns (integers, text, uuid, timestamps)");
  }
  if (sql_.nullable_keys.empty()) return;
  std::vector<std::string> nulls;
  for (const auto& k : sql_.nullable_keys) nulls.push_back(k + " IS NULL");
  auto n = session_.scalar(
      fmt::format("SELECT count(*) FROM {} WHERE {}", sql_.table, util::join(nulls, " OR ")));
  ++queries_;
  if (n && *n != "0") {
    throw Error::precondition(
        "no_usable_key",
        fmt::format("{} has no usable key: {} row(s) hold NULL in the key ({})", label_, *n,
                    util::join(key_names, ", ")),
        "a key identifies each row: declare a [[projection]] key whose columns are never NULL");
  }
}

ChunkSum Side::sum(const Range& r) {
  std::vector<std::string> params;
  std::string sql = fmt::format("SELECT count(*), coalesce(sum(\n       {}), 0)::text\n  FROM {}{}",
                                sql_.row_hash, sql_.table, where(r, &params));
  pg::Result res = query(sql, params);
  return {res[0][0].as<std::int64_t>(), res[0][1].c_str()};
}

// The bucket of ranges [first, last) a row falls in: a CASE tree comparing the
// key with the bounds, as where() does, so a row's bucket is the range whose
// chunk query would return it.
std::string Side::bucket(const std::vector<Range>& ranges, size_t first, size_t last,
                         std::vector<std::string>* params) const {
  if (last - first == 1) return std::to_string(first);
  size_t mid = first + (last - first) / 2;
  std::string below = compareKey(sql_, "<", params->size() + 1);
  params->insert(params->end(), ranges[mid].lo->begin(), ranges[mid].lo->end());
  std::string left = bucket(ranges, first, mid, params);
  std::string right = bucket(ranges, mid, last, params);
  return fmt::format("CASE WHEN {} THEN {} ELSE {} END", below, left, right);
}

pg::Result Side::scan(const std::string& sql, const std::vector<std::string>& params) {
  // One pass over the whole table: a sequential scan (parallel where the
  // server allows), not the key's index.
  session_.exec("SET enable_seqscan = on");
  pg::Result res;
  try {
    res = query(sql, params);
  } catch (...) {
    session_.exec("SET enable_seqscan = off");
    throw;
  }
  session_.exec("SET enable_seqscan = off");
  return res;
}

ChunkSum Side::total() {
  pg::Result res =
      scan(fmt::format("SELECT count(*), coalesce(sum(\n       {}), 0)::text\n  FROM {}",
                       sql_.row_hash, sql_.table),
           {});
  return {res[0][0].as<std::int64_t>(), res[0][1].c_str()};
}

// width_bucket(key, bounds) is the index of the range a row falls in when
// the bounds are the ranges' lower bounds after the first: one binary search in
// C rather than a CASE tree of row comparisons.
std::string Side::integerBucket(const std::vector<Range>& ranges,
                                std::vector<std::string>* params) const {
  std::vector<std::string> bounds;
  for (size_t i = 1; i < ranges.size(); ++i) bounds.push_back(ranges[i].lo->at(0));
  params->push_back("{" + util::join(bounds, ",") + "}");
  return fmt::format("width_bucket({}, ${}::int8[])", sql_.key_order[0], params->size());
}

std::vector<ChunkSum> Side::sums(const Range& within, const std::vector<Range>& ranges) {
  bool whole = !within.lo && !within.hi;
  if (ranges.size() == 1) return {whole ? total() : sum(ranges[0])};
  std::vector<std::string> params;
  std::string w = where(within, &params);
  bool integer = sql_.key_order.size() == 1 && sql_.key_cast[0] == "::int8";
  std::string b =
      integer ? integerBucket(ranges, &params) : bucket(ranges, 0, ranges.size(), &params);
  std::string sql = fmt::format(
      "SELECT {},\n       count(*), coalesce(sum(\n       {}), 0)::text\n  FROM {}{}\n GROUP BY 1",
      b, sql_.row_hash, sql_.table, w);
  pg::Result res = whole ? scan(sql, params) : query(sql, params);
  std::vector<ChunkSum> out(ranges.size(), ChunkSum{0, "0"});
  for (const auto& row : res) {
    out.at(static_cast<size_t>(row[0].as<std::int64_t>())) = {row[1].as<std::int64_t>(),
                                                              row[2].c_str()};
  }
  return out;
}

RowHashes Side::rows(const Range& r) {
  std::vector<std::string> params;
  std::string sql = fmt::format("SELECT {},\n       {}\n  FROM {}{}", keyList(), sql_.row_hash,
                                sql_.table, where(r, &params));
  RowHashes out;
  size_t n = sql_.key_text.size();
  for (const auto& row : query(sql, params)) {
    out[keyOf(row, n)].push_back(row[static_cast<int>(n)].as<std::int64_t>());
  }
  return out;
}

RowHashes Side::rowsByKeys(const std::vector<Key>& keys) {
  RowHashes out;
  if (keys.empty()) return out;
  std::vector<std::string> elems;
  for (size_t i = 0; i < sql_.key_text.size(); ++i) {
    std::string cast = sql_.key_cast[i].substr(0, sql_.key_cast[i].find(" COLLATE"));
    elems.push_back(fmt::format("(e->>{}){}", i, cast));
  }
  std::vector<std::string> columns;
  for (const auto& k : sql_.key_order) columns.push_back(k.substr(0, k.find(" COLLATE")));
  std::string sql = fmt::format(
      "SELECT {},\n       {}\n  FROM {}\n WHERE ({}) IN (SELECT {} FROM "
      "jsonb_array_elements($1::jsonb) e)",
      keyList(), sql_.row_hash, sql_.table, util::join(columns, ", "), util::join(elems, ", "));
  size_t n = sql_.key_text.size();
  constexpr size_t kBatch = 1000;
  for (size_t at = 0; at < keys.size(); at += kBatch) {
    nlohmann::json batch = nlohmann::json::array();
    for (size_t i = at; i < std::min(keys.size(), at + kBatch); ++i) batch.push_back(keys[i]);
    for (const auto& row : query(sql, {batch.dump()})) {
      out[keyOf(row, n)].push_back(row[static_cast<int>(n)].as<std::int64_t>());
    }
  }
  return out;
}

std::vector<Key> Side::quantiles(const Range& r, std::int64_t step) {
  std::vector<std::string> params;
  std::vector<std::string> aliases;
  for (size_t i = 0; i < sql_.key_text.size(); ++i)
    aliases.push_back(fmt::format("dbsplit_k{}", i));
  std::vector<std::string> selected;
  for (size_t i = 0; i < sql_.key_text.size(); ++i) {
    selected.push_back(sql_.key_text[i] + " AS " + aliases[i]);
  }
  std::string w = where(r, &params);
  std::string sql = fmt::format(
      "SELECT {}\n  FROM (SELECT {},\n               row_number() OVER (ORDER BY {}) AS rn\n"
      "          FROM {}{}) q\n WHERE rn % {} = 0\n ORDER BY rn",
      util::join(aliases, ", "), util::join(selected, ", "), util::join(sql_.key_order, ", "),
      sql_.table, w, step);
  std::vector<Key> out;
  for (const auto& row : query(sql, params)) out.push_back(keyOf(row, aliases.size()));
  return out;
}

std::vector<Key> Side::sample(double percent) {
  // The output columns are aliased: ORDER BY "id" would otherwise sort by the
  // output column "id" (its text), not by the key.
  std::vector<std::string> selected;
  for (size_t i = 0; i < sql_.key_text.size(); ++i) {
    selected.push_back(fmt::format("{} AS dbsplit_k{}", sql_.key_text[i], i));
  }
  std::string sql = fmt::format("SELECT {}\n  FROM {} TABLESAMPLE SYSTEM ({})\n ORDER BY {}",
                                util::join(selected, ", "), sql_.table, percent,
                                util::join(sql_.key_order, ", "));
  std::vector<Key> out;
  for (const auto& row : query(sql, {})) out.push_back(keyOf(row, sql_.key_text.size()));
  return out;
}

std::optional<std::pair<std::int64_t, std::int64_t>> Side::minMax(const Range& r) {
  std::vector<std::string> params;
  std::string sql = fmt::format("SELECT min({0}), max({0})\n  FROM {1}{2}", sql_.key_order[0],
                                sql_.table, where(r, &params));
  pg::Result res = query(sql, params);
  if (res[0][0].is_null()) return std::nullopt;
  return std::make_pair(res[0][0].as<std::int64_t>(), res[0][1].as<std::int64_t>());
}

}  // namespace dbsplit::compare
