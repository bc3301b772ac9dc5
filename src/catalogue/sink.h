// What the readers hand to the collector: one observed statement at a time,
// and input that had to be skipped (with where and why).
#pragma once

#include <cstdint>
#include <string>

namespace dbsplit::catalogue {

struct Observation {
  std::string text;
  std::string role;         // "" when unknown
  std::string application;  // "" when unknown
  std::string service;      // attribution forced by the source, "" = by role
  std::int64_t calls = 1;
  std::string where;  // "file:line", "" for pg_stat_statements
};

class Sink {
 public:
  virtual ~Sink() = default;
  virtual void statement(const Observation& obs) = 0;
  virtual void skipped(const std::string& where, const std::string& reason) = 0;
};

}  // namespace dbsplit::catalogue
