// Debezium connector configs for the outbox tables (DESIGN §8): the path for
// users who already run Kafka. One config per owning service, rendered from
// templates/outbox/debezium.json; reads only the plan and the DSN.
#pragma once

#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "plan/plan.h"

namespace dbsplit::steps::outbox {

struct ConnectorConfig {
  std::string service;
  nlohmann::json config;  // {"name": ..., "config": {...}}
};

// Services that own at least one [[event]]'s table, in plan order.
std::vector<std::string> publishingServices(const plan::Plan& plan);

// `dsn` gives host, port, user and dbname; its password is never copied: the
// config points at a Kafka Connect secret (FileConfigProvider) instead.
std::vector<ConnectorConfig> debeziumConfigs(const plan::Plan& plan, const std::string& dsn);

}  // namespace dbsplit::steps::outbox
