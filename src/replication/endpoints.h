// Helpers shared by the split movers (shared by src/replication and src/cutover).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/mover.h"
#include "nlohmann/json.hpp"
#include "pg/session.h"

namespace dbsplit::replication {

struct MoverArgs {
  std::string service;
  std::string schema;
  std::string name;  // publication, slot and subscription
};

MoverArgs parseArgs(const engine::MoverContext& ctx);
std::unique_ptr<pg::Session> connectSource(const engine::MoverContext& ctx);
std::unique_ptr<pg::Session> connectTarget(const engine::MoverContext& ctx);

// The subscription's comment once catch-up is done (split/catchup's verify).
// Every later mark of the cutover also starts with "dbsplit ", and undoing the
// cutover puts this one back, so that catch-up stays done until its own undo
// clears the comment.
inline constexpr const char* kCaughtUpComment = "dbsplit caught up";

// The tables of `publication` on the source (leaf partitions included), quoted
// and qualified, in name order: what the subscription copies and streams.
std::vector<std::string> publishedTables(pg::Session& source, const std::string& publication);

}  // namespace dbsplit::replication
