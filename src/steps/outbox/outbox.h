// `outbox` (step 3, DESIGN §6): the owner publishes every change atomically.
// Per owning service with at least one [[event]]: the table `<service>.outbox`
// (Debezium outbox-router compatible) owned by the service's group role; per
// [[event]]: a SECURITY DEFINER trigger function, an AFTER ROW trigger and a
// TRUNCATE trigger, each its own action. Needs the schema and group role that
// `ownership` creates. docs/steps/outbox.md has the details.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "engine/step.h"
#include "steps/outbox/sql.h"

namespace dbsplit::steps {

// The registry's instance.
const engine::Step* outboxStep();

namespace outbox {

// Every [[event]] resolved against the live catalog, grouped by owning service
// in plan order. Throws Error (exit 2 for a plan that names what is not there,
// exit 3 for a database not ready for it) listing every problem with its plan
// position; reads only.
std::vector<std::pair<std::string, std::vector<EventSpec>>> resolveEvents(const plan::Plan& plan,
                                                                          pg::Session& catalog);

}  // namespace outbox
}  // namespace dbsplit::steps
