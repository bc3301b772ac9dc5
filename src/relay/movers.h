// The projections step's data movers, registered with the engine
// (engine/mover.h): the backfill of one projection and the start of a
// consumer's relay (cursors, then one catch-up).
#pragma once

namespace dbsplit::relay {

inline constexpr const char* kBackfillMover = "projections.backfill";
inline constexpr const char* kStartMover = "projections.start";

// Idempotent; called by the step registry.
void registerMovers();

}  // namespace dbsplit::relay
