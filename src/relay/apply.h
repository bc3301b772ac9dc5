// Applies a chunk of outbox events to a consumer's projections inside the
// caller's open transaction on the consumer side: per projection, the events
// of its source table are collapsed to the last one per key (in seq order),
// then written as one multi-row upsert and one multi-row delete. A TRUNCATE
// event empties the projection first. A payload that does not fit the
// projection (schema drift) throws Error(kStepFailed, "relay_bad_event")
// naming the event id; the caller rolls back, so nothing is half-applied.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "pg/session.h"
#include "relay/spec.h"

namespace dbsplit::relay {

struct OutboxEvent {
  std::int64_t seq = 0;
  std::string id;  // uuid
  std::string source_table;
  char op = 'u';        // c, u, d, t
  std::string payload;  // jsonb text; "" for NULL
};

struct ApplyResult {
  std::int64_t rows_upserted = 0;
  std::int64_t rows_deleted = 0;
  std::vector<const OutboxEvent*> skipped;  // named by --skip-event
};

// REQUIRES: `target` has an open transaction.
ApplyResult applyEvents(pg::Session& target, const std::vector<const ProjectionSpec*>& specs,
                        const std::vector<OutboxEvent>& events,
                        const std::set<std::string>& skip_ids);

// The same on the server, for a consumer whose projections live in the
// outbox's database: per projection one statement reads the chunk's events
// from the outbox (seq in [lower, upper], ended in `to` and not in `from`),
// collapses them per key and upserts/deletes, without a row leaving the
// server. A chunk holding something only applyEvents handles (a TRUNCATE, a
// payload that does not fit the projection) makes the statement fail (an
// Error; or false): the caller rolls back and takes the client path, which
// names the bad event. REQUIRES: `s` has an open transaction.
bool applyInPlace(pg::Session& s, const std::vector<const ProjectionSpec*>& specs,
                  const plan::QualifiedName& outbox, std::int64_t lower, std::int64_t upper,
                  const std::string& from, const std::string& to, ApplyResult* result);

// After a failed apply (transaction rolled back): the first event whose payload
// cannot become a row of its projection, as an Error naming it; nullopt when
// every payload converts on its own.
std::optional<Error> findBadEvent(pg::Session& target,
                                  const std::vector<const ProjectionSpec*>& specs,
                                  const std::vector<OutboxEvent>& events,
                                  const std::set<std::string>& skip_ids, const std::string& why);

}  // namespace dbsplit::relay
