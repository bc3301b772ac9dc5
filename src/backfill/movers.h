// The projections step's data movers, registered with the engine
// (engine/mover.h): the backfill of one projection, and the hand-over from the
// backfills to a consumer's relay (cursors from the backfill snapshots, then
// one catch-up).
#pragma once

namespace dbsplit::backfill {

inline constexpr const char* kBackfillMover = "projections.backfill";
inline constexpr const char* kStartMover = "projections.start";

// Idempotent; called by the step registry.
void registerMovers();

}  // namespace dbsplit::backfill
