// Outbox retention (see prune.h).
#include "prune/prune.h"

#include <algorithm>
#include <functional>

#include "engine/run_lock.h"
#include "fmt/format.h"
#include "pg/conninfo.h"
#include "pg/session.h"
#include "relay/cursor.h"
#include "relay/spec.h"

namespace dbsplit::prune {
namespace {

pg::ConnectOptions connectOptions(const std::string& dsn, const std::string& migration,
                                  bool read_only) {
  pg::ConnectOptions o;
  o.dsn = dsn;
  o.application_name = "dbsplit/" + migration + "/outbox-prune";
  o.read_only = read_only;
  return o;
}

// Why `consumer` has no cursor for `outbox` in `session`.
std::string noCursor(pg::Session& session, const std::string& consumer, const std::string& outbox) {
  const plan::QualifiedName table = relay::cursorTable(consumer);
  if (!session.scalar("SELECT to_regclass($1)", table.quoted())) {
    return fmt::format("consumer \"{}\" has no cursor table {} yet (run projections first)",
                       consumer, table.display());
  }
  return fmt::format("consumer \"{}\" has no cursor for {} in {}", consumer, outbox,
                     table.display());
}

// Cursors of every consumer of `service`; fills `r.blocked_by` when one is missing.
void readCursors(const plan::Plan& plan, const std::string& dsn, pg::Session& session,
                 PruneResult& r) {
  std::string outbox = plan::outboxOf(r.service).display();
  for (const std::string& consumer : consumersOf(plan, r.service)) {
    const plan::Service* s = plan.findService(consumer);
    std::unique_ptr<pg::Session> own;
    pg::Session* where = &session;
    if (s && !s->database.empty()) {  // the consumer keeps its projections in its own database
      own = pg::Session::connect(
          connectOptions(relay::serviceDsn(dsn, s->database), plan.migration.name, true));
      where = own.get();
    }
    if (auto seq = relay::readLowWatermark(*where, consumer, outbox)) {
      r.below_seq = r.below_seq ? std::min(*r.below_seq, *seq) : *seq;
    } else {
      r.blocked_by.push_back(noCursor(*where, consumer, outbox));
    }
  }
}

constexpr const char* kEligible =
    " WHERE created_at < $1::timestamptz"
    "   AND (NULLIF($2, '') IS NULL OR seq < NULLIF($2, '')::bigint)";

// One service's outbox that may be pruned: where it is, and the bind values of kEligible.
struct Eligible {
  pg::Session& where;
  std::string table;   // quoted
  std::string cutoff;  // $1
  std::string below;   // $2: "" = no consumer, only the age cutoff applies
};

// Under the run lock: for every publishing service, finds its outbox and the
// consumers' cursors, and calls `act` when nothing blocks pruning it.
std::vector<PruneResult> eachOutbox(
    const plan::Plan& plan, const PruneOptions& options, bool read_only,
    const std::function<void(PruneResult&, const Eligible&, engine::RunLock&)>& act) {
  auto lock = engine::RunLock::acquire(connectOptions(options.dsn, plan.migration.name, false),
                                       plan.migration.name);
  auto session = pg::Session::connect(connectOptions(options.dsn, plan.migration.name, false));
  std::string cutoff =
      *session->scalar("SELECT (now() - make_interval(secs => $1::float8 / 1000))::text",
                       std::to_string(options.older_than_ms));
  std::vector<PruneResult> results;
  for (const std::string& service : plan.publishingServices()) {
    PruneResult& r = results.emplace_back();
    r.service = service;
    std::string table = plan::outboxOf(service).quoted();
    // After a database-mode split's cutover the service writes its events in
    // its own database: the outbox there is pruned (the source's is fenced and
    // stays as it was at the cutover). A cursor's seq bounds both copies: the
    // events replicated there have the source's seqs.
    std::unique_ptr<pg::Session> moved;
    if (std::string dsn = relay::movedOutboxDsn(plan, *session, options.dsn, service);
        !dsn.empty()) {
      moved = pg::Session::connect(connectOptions(dsn, plan.migration.name, read_only));
      r.database = pg::redactDsn(dsn);
    }
    pg::Session* where = moved ? moved.get() : session.get();
    if (!where->scalar("SELECT to_regclass($1)", table)) {
      r.outbox_missing = true;
      continue;
    }
    readCursors(plan, options.dsn, *session, r);
    if (!r.blocked_by.empty()) continue;
    act(r, Eligible{*where, table, cutoff, r.below_seq ? std::to_string(*r.below_seq) : ""}, *lock);
  }
  return results;
}

}  // namespace

std::vector<std::string> consumersOf(const plan::Plan& plan, const std::string& service) {
  std::vector<std::string> out;
  for (const plan::Projection& p : plan.projections) {
    const plan::Table* t = plan.findTable(p.source);
    if (!t || t->owner != service) continue;
    if (std::find(out.begin(), out.end(), p.consumer) == out.end()) out.push_back(p.consumer);
  }
  return out;
}

std::vector<PruneResult> countPrunable(const plan::Plan& plan, const PruneOptions& options) {
  return eachOutbox(plan, options, true, [](PruneResult& r, const Eligible& e, engine::RunLock&) {
    r.deleted = std::stoll(
        *e.where.scalar("SELECT count(*) FROM " + e.table + kEligible, e.cutoff, e.below));
  });
}

std::vector<PruneResult> prune(const plan::Plan& plan, const PruneOptions& options,
                               util::Reporter& out) {
  return eachOutbox(
      plan, options, false, [&](PruneResult& r, const Eligible& e, engine::RunLock& lock) {
        // Small batches, each its own transaction: writers never wait long behind us.
        const std::string del = fmt::format(
            "DELETE FROM {0}\n WHERE id IN (SELECT id FROM {0}{1}\n ORDER BY seq LIMIT {2})",
            e.table, kEligible, options.batch);
        auto progress = out.progress("prune " + plan::outboxOf(r.service).display(), 0, "events");
        for (;;) {
          lock.checkAlive();
          std::int64_t n = e.where.execParams(del, e.cutoff, e.below).affected_rows();
          r.deleted += n;
          progress->advance(n);
          if (n < options.batch) break;
        }
        progress->finish();
      });
}

}  // namespace dbsplit::prune
