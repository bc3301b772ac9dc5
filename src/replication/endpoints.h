// Helpers shared by the split movers (shared by src/replication and src/cutover).
#pragma once

#include <memory>
#include <string>

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

}  // namespace dbsplit::replication
