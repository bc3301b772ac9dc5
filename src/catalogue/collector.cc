// Collector: dedupe, analysis and aggregation (see collector.h).
#include "catalogue/collector.h"

#include <map>
#include <tuple>

#include "catalogue/log_reader.h"
#include "catalogue/pg_query.h"
#include "catalogue/readers.h"
#include "catalogue/shape_key.h"
#include "fmt/format.h"
#include "util/error.h"
#include "util/text.h"
#include "util/time.h"

namespace dbsplit::catalogue {

namespace {
constexpr int kSkippedKeptPerSource = 20;
constexpr char kSep = '\x1f';

// Logs and SQL files may hold bytes that are not UTF-8 (a latin1 client, a
// damaged file); JSON output must not. Invalid bytes become U+FFFD. Applied
// once per shape and group, not per statement.
std::string validUtf8(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80           ? 1
                 : (c >> 5) == 0x6  ? 2
                 : (c >> 4) == 0xe  ? 3
                 : (c >> 3) == 0x1e ? 4
                                    : 0;
    bool ok = len > 0 && i + len <= s.size() && !(len == 2 && c < 0xc2);
    for (size_t k = 1; ok && k < len; ++k) {
      ok = (static_cast<unsigned char>(s[i + k]) & 0xc0) == 0x80;
    }
    if (ok) {
      out.append(s, i, len);
      i += len;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}
}  // namespace

int Collector::shapeOf(const std::string& text) {
  std::string key = shapeKey(text);
  auto it = by_key_.find(key);
  if (it != by_key_.end()) return it->second;
  // One shape per key, never merged by fingerprint: libpg_query's fingerprint
  // drops digits from relation names (for partitions and shards), so `t11` and
  // `t14` share one; the fingerprint is a label here, not an identity.
  Shape shape;
  shape.example = validUtf8(text);
  std::string error;
  auto fp = pgq::fingerprint(shape.example, &error);
  if (fp) {
    shape.fingerprint = *fp;
  } else if (text.rfind("<insufficient privilege>", 0) == 0) {
    shape.parse_error =
        "the query text is hidden from this user: connect as a superuser or "
        "a member of pg_read_all_stats";
  } else {
    shape.parse_error = validUtf8(error);
  }
  int id = static_cast<int>(shapes_.size());
  shapes_.push_back(std::move(shape));
  by_key_.emplace(std::move(key), id);
  return id;
}

void Collector::statement(const Observation& obs) {
  // dbsplit's own sessions (a log says who): its relay, compare and steps.
  if (obs.application.rfind("dbsplit/", 0) == 0) return;
  ++stats_.statements;
  stats_.calls += obs.calls;
  int shape = shapeOf(obs.text);
  std::string key = std::to_string(shape);
  for (const std::string* part : std::initializer_list<const std::string*>{
           &obs.role, &obs.application, &obs.service, &source_}) {
    key += kSep;
    key += *part;
  }
  auto [it, inserted] = groups_.try_emplace(std::move(key));
  Group& g = it->second;
  if (inserted) {
    g.shape = shape;
    g.role = validUtf8(obs.role);
    g.application = validUtf8(obs.application);
    g.service = obs.service;
    g.source = validUtf8(source_);
    g.where = validUtf8(obs.where);
    g.seq = stats_.statements;
  }
  g.calls += obs.calls;
}

void Collector::skipped(const std::string& where, const std::string& reason) {
  ++stats_.skipped_lines;
  if (skipped_per_source_[source_]++ < kSkippedKeptPerSource) {
    skipped_.push_back({validUtf8(where), validUtf8(reason)});
  }
}

std::string Collector::serviceFor(const Group& g) const {
  if (!g.service.empty()) return g.service;
  if (plan_) {
    if (const plan::Service* s = plan_->serviceOfRole(g.role)) return s->name;
    if (!g.application.empty() && plan_->findService(g.application)) return g.application;
  }
  return kUnassigned;
}

Snapshot Collector::finish(const std::vector<std::string>& sources) {
  Snapshot snap;
  snap.taken_at = util::nowIso8601();
  for (const auto& src : sources) snap.sources.push_back(validUtf8(src));
  Analyzer analyzer(catalog_);
  std::vector<pgq::Parsed> trees(shapes_.size());
  std::vector<bool> parsed(shapes_.size(), false);
  std::vector<std::string> normalized(shapes_.size());
  std::map<std::pair<int, std::string>, ShapeAnalysis> analyses;
  using AccessKey = std::tuple<std::string, std::string, std::string, std::string, std::string,
                               std::string, std::string, std::string>;
  std::map<AccessKey, Access> accesses;
  std::map<std::tuple<std::string, std::string, std::string>, std::pair<Unresolved, std::int64_t>>
      unresolved;

  for (const auto& [key, g] : groups_) {
    const Shape& shape = shapes_[g.shape];
    auto addUnresolved = [&](const std::string& statement, const std::string& reason) {
      auto& [u, seq] = unresolved[{statement, reason, g.source}];
      if (u.statement.empty() || g.seq < seq) {
        std::int64_t calls = u.calls;
        u = {statement, reason, calls, g.where, g.source};
        seq = g.seq;
      }
      u.calls += g.calls;
    };
    if (!shape.parse_error.empty()) {
      addUnresolved(shape.example, "does not parse: " + shape.parse_error);
      continue;
    }
    if (!parsed[g.shape]) {
      trees[g.shape] = pgq::parse(shape.example);
      analyzer.countParse();
      normalized[g.shape] = pgq::normalize(shape.example);
      parsed[g.shape] = true;
    }
    auto path = catalog_.searchPath(g.role);
    auto akey = std::make_pair(g.shape, util::join(path, ","));
    auto found = analyses.find(akey);
    if (found == analyses.end()) {
      found = analyses.emplace(akey, analyzer.analyze(trees[g.shape].tree, path)).first;
    }
    const ShapeAnalysis& a = found->second;
    std::string service = serviceFor(g);
    for (const auto& sa : a.accesses) {
      // dbsplit's machinery is nobody's data; its read models are their
      // consumer's, so only statements by no service (dbsplit's relay and
      // compare, as the migration's role) are left out there.
      const Relation::Made made = catalog_.madeBy(sa.table);
      if (made == Relation::Made::kMachinery) continue;
      if (made == Relation::Made::kReadModel && service == kUnassigned) continue;
      std::string kind = sa.write ? "write" : "read";
      AccessKey k{service,           g.role,        sa.table, kind, sa.via,
                  shape.fingerprint, g.application, g.source};
      Access& acc = accesses[k];
      if (acc.table.empty()) {
        acc = {service,
               g.role,
               sa.table,
               kind,
               {},
               0,
               sa.via,
               shape.fingerprint,
               normalized[g.shape],
               g.application,
               g.source};
      }
      acc.columns.insert(sa.columns.begin(), sa.columns.end());
      acc.calls += g.calls;
    }
    if (!a.problems.empty()) addUnresolved(normalized[g.shape], util::join(a.problems, "; "));
  }
  for (auto& [k, a] : accesses) snap.accesses.push_back(std::move(a));
  for (auto& [k, u] : unresolved) snap.unresolved.push_back(std::move(u.first));
  snap.skipped = skipped_;
  snap.stats = stats_;
  snap.stats.shapes = static_cast<std::int64_t>(shapes_.size());
  snap.stats.parses = analyzer.parses();
  return snap;
}

Snapshot collect(const std::vector<Source>& sources, const plan::Plan* plan, pg::Session& session) {
  Catalog catalog = loadCatalog(session);
  Collector collector(catalog, plan);
  std::vector<std::string> names;
  int readable = 0;
  for (const auto& s : sources) {
    names.push_back(s.text);
    collector.setSource(s.text);
    switch (s.kind) {
      case Source::Kind::kPgStatStatements:
        readPgStatStatements(session, collector);
        ++readable;
        break;
      case Source::Kind::kLog:
        if (readLog(s.path, s.service, collector)) ++readable;
        break;
      case Source::Kind::kSql:
        readSqlFiles(s.path, s.service, plan, collector);
        ++readable;
        break;
    }
  }
  if (readable == 0) {
    throw Error::usage("catalogue_no_input",
                       fmt::format("no source could be read ({})", util::join(names, ", ")),
                       "name a PostgreSQL log, a SQL folder or pg_stat_statements");
  }
  return collector.finish(names);
}

}  // namespace dbsplit::catalogue
