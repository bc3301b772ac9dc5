#include "demo/ledger.h"

namespace dbsplit::demo {

void Ledger::record(const std::vector<Write>& committed) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const Write& w : committed) {
    ++writes_;
    Write& row = rows_[w.table][w.key.dump()];
    if (row.table.empty() || w.deleted || row.deleted) {
      row = w;
      row.epoch = epoch_;
      continue;
    }
    row.epoch = epoch_;
    for (const auto& [col, value] : w.values.items()) row.values[col] = value;
  }
}

std::map<std::string, std::vector<nlohmann::json>> Ledger::snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::map<std::string, std::vector<nlohmann::json>> out;
  for (const auto& [table, rows] : rows_) {
    auto& list = out[table];
    for (const auto& [key, w] : rows) {
      list.push_back({{"k", w.key},
                      {"v", w.values.is_null() ? nlohmann::json::object() : w.values},
                      {"d", w.deleted},
                      {"e", w.epoch}});
    }
  }
  return out;
}

int Ledger::nextEpoch() {
  std::lock_guard<std::mutex> lock(mu_);
  return ++epoch_;
}

std::int64_t Ledger::writes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return writes_;
}

}  // namespace dbsplit::demo
