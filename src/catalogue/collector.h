// The ingestion pipeline: observed statements are grouped by a cheap shape key
// (literals, comments and layout removed), each new key is fingerprinted with
// libpg_query (the label accesses carry), parsed once and analysed once per
// search_path; calls are summed per (shape, role, application, service).
// Memory grows with the number of shapes, not with the number of statements.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "catalogue/analyzer.h"
#include "catalogue/model.h"
#include "catalogue/sink.h"
#include "catalogue/source.h"
#include "plan/plan.h"

namespace dbsplit::pg {
class Session;
}

namespace dbsplit::catalogue {

class Collector : public Sink {
 public:
  Collector(const Catalog& catalog, const plan::Plan* plan) : catalog_(catalog), plan_(plan) {}

  void setSource(const std::string& source) { source_ = source; }
  void statement(const Observation& obs) override;
  void skipped(const std::string& where, const std::string& reason) override;

  // Analyses every shape and builds the snapshot.
  Snapshot finish(const std::vector<std::string>& sources);

 private:
  struct Shape {
    std::string fingerprint;  // "" when it does not parse
    std::string example;      // the first statement seen
    std::string parse_error;
  };
  struct Group {
    int shape = 0;
    std::string role, application, service, source, where;
    std::int64_t calls = 0;
    std::int64_t seq = 0;  // order of first sight: the first `where` wins
  };
  int shapeOf(const std::string& text);
  std::string serviceFor(const Group& g) const;

  const Catalog& catalog_;
  const plan::Plan* plan_;
  std::string source_;
  std::unordered_map<std::string, int> by_key_;
  std::vector<Shape> shapes_;
  std::unordered_map<std::string, Group> groups_;
  std::vector<Skipped> skipped_;
  std::unordered_map<std::string, int> skipped_per_source_;
  Stats stats_;
};

// Reads every source into a snapshot. REQUIRES: checkSources() passed.
// Throws Error(kUsage, "catalogue_no_input") when no source could be read.
Snapshot collect(const std::vector<Source>& sources, const plan::Plan* plan, pg::Session& session);

}  // namespace dbsplit::catalogue
