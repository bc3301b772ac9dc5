// Builds the per-side SQL of one compared table (see table_spec.h).
#include "compare/table_spec.h"

#include <algorithm>
#include <map>

#include "fmt/format.h"
#include "sql/quote.h"
#include "util/error.h"
#include "util/text.h"

namespace dbsplit::compare {
namespace {

// Types hashed with their own extended hash function, grouped by family: two
// types of one family hash equal values alike (PostgreSQL's hash opfamily
// rule), so a source int4 and a projection int8 may each use their own.
struct NativeHash {
  const char* family;
  const char* function;
  const char* argument;  // how the column is passed; {} is the column
};

const std::map<std::string, NativeHash>& nativeHashes() {
  static const std::map<std::string, NativeHash> m = {
      {"int2", {"integer", "hashint2extended", "{}"}},
      {"int4", {"integer", "hashint4extended", "{}"}},
      {"int8", {"integer", "hashint8extended", "{}"}},
      {"numeric", {"numeric", "hash_numeric_extended", "{}"}},
      {"text", {"text", "hashtextextended", "{}::text COLLATE \"C\""}},
      {"varchar", {"text", "hashtextextended", "{}::text COLLATE \"C\""}},
      {"bpchar", {"bpchar", "hashbpcharextended", "{}"}},
      {"float4", {"float", "hashfloat4extended", "{}"}},
      {"float8", {"float", "hashfloat8extended", "{}"}},
      {"uuid", {"uuid", "uuid_hash_extended", "{}"}},
      {"jsonb", {"jsonb", "jsonb_hash_extended", "{}"}},
      {"timestamp", {"timestamp", "timestamp_hash_extended", "{}"}},
      // An instant: hashed as its UTC wall-clock time, whatever the session's zone.
      {"timestamptz", {"timestamptz", "timestamp_hash_extended", "({} AT TIME ZONE 'UTC')"}},
      {"time", {"time", "time_hash_extended", "{}"}},
      {"timetz", {"timetz", "timetz_hash_extended", "{}"}},
      {"interval", {"interval", "interval_hash_extended", "{}"}},
      {"inet", {"inet", "hashinetextended", "{}"}},
  };
  return m;
}

const NativeHash* nativeHash(const Column& c) {
  if (c.typtype != 'b') return nullptr;  // enums hash their OIDs: not comparable across databases
  auto it = nativeHashes().find(c.base_type);
  return it == nativeHashes().end() ? nullptr : &it->second;
}

std::string fill(const char* pattern, const std::string& column) {
  std::string out = pattern;
  auto at = out.find("{}");
  if (at != std::string::npos) out.replace(at, 2, column);
  return out;
}

// A canonical text form of a value of column `c` (equal values, equal text).
// The sessions run with DateStyle ISO, IntervalStyle postgres,
// extra_float_digits 1 and bytea_output hex, so output functions are stable.
std::string canonicalText(const Column& c, const std::string& column) {
  if (c.base_type == "numeric") return fmt::format("trim_scale({})::text", column);
  if (c.base_type == "timestamptz") return fmt::format("({} AT TIME ZONE 'UTC')::text", column);
  if (c.base_type == "json") return fmt::format("{}::jsonb::text", column);
  return fmt::format("{}::text", column);
}

// A fixed 64-bit constant per column position (splitmix64), standing for NULL.
std::int64_t nullConstant(std::uint64_t i) {
  std::uint64_t z = (i + 1) * 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  z ^= z >> 31;
  return static_cast<std::int64_t>(z);
}

std::string columnHash(const Column& c, const NativeHash* native, size_t i) {
  std::string column = sql::quoteIdent(c.name);
  std::string hash;
  if (native) {
    hash = fmt::format("{}({}, {})", native->function, fill(native->argument, column), i + 1);
  } else {
    hash = fmt::format("hashtextextended({} COLLATE \"C\", {})", canonicalText(c, column), i + 1);
  }
  if (c.not_null) return hash;
  // Written as a literal cast so a negative constant needs no parentheses.
  return fmt::format("coalesce({}, '{}'::int8)", hash, nullConstant(i));
}

[[noreturn]] void columnsChanged(const plan::Projection& p, const std::string& table,
                                 const std::vector<std::string>& missing,
                                 const std::vector<std::string>& extra) {
  std::vector<std::string> details;
  for (const auto& m : missing) details.push_back(fmt::format("missing column \"{}\"", m));
  for (const auto& e : extra) {
    details.push_back(fmt::format("column \"{}\" is not in the plan's columns", e));
  }
  throw Error::precondition(
      "projection_columns_changed",
      fmt::format("projection {} no longer has the plan's columns ({}) for {}", table,
                  util::join(p.columns, ", "), p.source.display()),
      "the plan or the table changed since `dbsplit run projections`: roll the step back and "
      "run it again, or restore the columns")
      .withDetails(details);
}

}  // namespace

const Column* Relation::find(const std::string& column) const {
  for (const Column& c : columns) {
    if (c.name == column) return &c;
  }
  return nullptr;
}

plan::QualifiedName projectionTable(const plan::Projection& p) { return {p.consumer, p.name}; }

bool isIntegerType(const std::string& base_type) {
  return base_type == "int2" || base_type == "int4" || base_type == "int8";
}

TableSpec buildSpec(const plan::Projection& p, const Relation& source, const Relation& target) {
  TableSpec spec;
  spec.projection = p;
  spec.projection_name = projectionTable(p).display();
  spec.source_name = p.source.display();
  spec.key = p.key;
  if (!target.found) {
    throw Error::precondition(
        "projection_missing",
        fmt::format("projection {} (of {}) does not exist", spec.projection_name, spec.source_name),
        "dbsplit run projections");
  }
  if (!source.found) {
    throw Error::precondition("source_missing",
                              fmt::format("source table {} of projection {} does not exist",
                                          spec.source_name, spec.projection_name),
                              "check [[projection]] source in the plan");
  }
  // The projection holds exactly the declared columns (bookkeeping columns a
  // relay may add are named dbsplit_*).
  std::vector<std::string> missing, extra;
  for (const auto& c : p.columns) {
    if (!target.find(c)) missing.push_back(c);
  }
  for (const Column& c : target.columns) {
    if (std::find(p.columns.begin(), p.columns.end(), c.name) == p.columns.end() &&
        c.name.rfind("dbsplit_", 0) != 0) {
      extra.push_back(c.name);
    }
  }
  if (!missing.empty() || !extra.empty()) columnsChanged(p, spec.projection_name, missing, extra);
  for (const auto& c : p.columns) {
    if (!source.find(c)) missing.push_back(c);
  }
  if (!missing.empty()) {
    throw Error::precondition(
        "source_columns_missing",
        fmt::format("source table {} has no column {}", spec.source_name,
                    util::join(missing, ", ")),
        "the source table changed since the plan was written; fix [[projection]] columns");
  }

  spec.source.table = source.name.quoted();
  spec.target.table = target.name.quoted();
  std::vector<std::string> src_hash, tgt_hash;
  for (size_t i = 0; i < p.columns.size(); ++i) {
    const Column& s = *source.find(p.columns[i]);
    const Column& t = *target.find(p.columns[i]);
    const NativeHash* ns = nativeHash(s);
    const NativeHash* nt = nativeHash(t);
    // Native hashes only when both sides are of one family; else both use text.
    bool native = ns && nt && std::string(ns->family) == nt->family;
    src_hash.push_back(columnHash(s, native ? ns : nullptr, i));
    tgt_hash.push_back(columnHash(t, native ? nt : nullptr, i));
  }
  spec.source.row_hash = util::join(src_hash, "\n     # ");
  spec.target.row_hash = util::join(tgt_hash, "\n     # ");

  bool all_integer = true;
  for (const auto& k : p.key) {
    const Column& s = *source.find(k);
    const Column& t = *target.find(k);
    std::string column = sql::quoteIdent(k);
    // Both sides must order keys alike for chunks to line up; when their
    // collations differ, both order by bytes.
    bool by_bytes = !s.collation.empty() && !t.collation.empty() && s.collation != t.collation;
    // Integer keys are bound as int8 on both sides: a bound taken from one side
    // may not fit the other side's narrower type.
    bool integer = isIntegerType(s.base_type) && isIntegerType(t.base_type);
    for (auto [side, c] :
         {std::pair<SideSql*, const Column*>{&spec.source, &s}, {&spec.target, &t}}) {
      side->key_text.push_back(canonicalText(*c, column));
      side->key_order.push_back(by_bytes ? column + " COLLATE \"C\"" : column);
      side->key_cast.push_back(integer ? "::int8"
                                       : "::" + c->type + (by_bytes ? " COLLATE \"C\"" : ""));
      if (!c->not_null) side->nullable_keys.push_back(column);
    }
    spec.key_is_integer.push_back(integer);
    all_integer = all_integer && integer;
  }
  spec.integer_key = p.key.size() == 1 && all_integer;
  return spec;
}

}  // namespace dbsplit::compare
