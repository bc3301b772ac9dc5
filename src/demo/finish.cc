// The end of the demo's walk (walk.h): the optional lost event
// (DBSPLIT_DEMO_DROP_EVENT), the relays' final catch-up and the nothing-lost
// check (check.h) against where every committed write lives now.
#include "demo/check.h"
#include "demo/walk.h"
#include "pg/session.h"
#include "sql/quote.h"
#include "util/text.h"

namespace dbsplit::demo {

// DBSPLIT_DEMO_DROP_EVENT: one more write by the first event owner, whose
// event is deleted before any relay sees it: a lost event.
void Demo::dropOneEvent() {
  const plan::Event& ev = plan_->events.front();
  std::string owner;
  for (const auto& t : plan_->tables) {
    if (t.name == ev.table) owner = t.owner;
  }
  auto writes = workload_->writeOnce(owner);
  auto at = locate(databasesOf(owner), {owner}, "outbox");
  if (writes.empty() || !at) throw Error::stepFailed("demo_drop_event", "could not drop an event");
  auto s = pg::Session::connect({at->dsn, "dbsplit/demo", false, 10, true});
  auto n =
      s->scalar("WITH gone AS (DELETE FROM " + sql::quoteQualified(at->schema, "outbox") +
                " WHERE seq = (SELECT max(seq) FROM " + sql::quoteQualified(at->schema, "outbox") +
                ") RETURNING aggregateid) SELECT aggregateid FROM gone");
  out_.warn(fmt::format(
      "DBSPLIT_DEMO_DROP_EVENT: deleted the event of {} {} from {}.outbox (a testing aid: the "
      "check below must fail)",
      ev.aggregate_type, n.value_or("?"), at->schema));
}

void Demo::finalCatchUp() {
  for (const auto& c : consumers_) {
    ChildResult r = dbsplit({"relay", "--once", "--consumer", c});
    if (o_.drop_event && r.exit_code != 0) {
      // The dropped event may upset the relay too; the check below decides.
      out_.warn("dbsplit relay --once --consumer " + c + ": " + r.errorMessage());
      continue;
    }
    requireOk(r, "dbsplit relay --once --consumer " + c);
  }
  say(fmt::format("$ dbsplit relay --once --consumer C   x{}: every projection caught up",
                  consumers_.size()));
}

bool Demo::nothingLost() {
  narrate("nothing lost?",
          "Every write the services committed, compared with SQL against where it lives now:\n"
          "the owner's table, each projection of it, and the owner's outbox.");
  // Every write, before and after a database split's cutover: the relay
  // follows each owner's outbox into its new database.
  CheckInputs in{*plan_, [this](const std::string& s) { return databasesOf(s); }, outbox_epoch_,
                 -1};
  if (cutover_epoch_ >= 0) {
    say("after the database split's cutover the owners write their events in their new\n"
        "databases and the relay follows them there: projections are checked for every\n"
        "write, before and after the cutover");
  }
  CheckReport rep = checkNothingLost(workload_->ledger(), in);
  for (const auto& t : rep.targets) {
    out_.event({{"event", "demo_check"},
                {"target", t.what},
                {"rows", t.rows},
                {"wrong", t.wrong},
                {"samples", t.samples}},
               fmt::format("   {:<40} {:>7} rows  {}", t.what, t.rows,
                           t.wrong == 0 ? "ok"
                                        : fmt::format("{} WRONG, e.g. {}", t.wrong,
                                                      util::join(t.samples, " "))));
  }
  say(fmt::format(
      "{} committed writes: {} row checks in {} places: {}", workload_->ledger().writes(),
      rep.rows(), rep.targets.size(),
      rep.wrong() == 0 ? "nothing lost" : fmt::format("{} wrong or missing", rep.wrong())));
  return rep.wrong() == 0 && rep.rows() > 0;
}

std::int64_t Demo::failedDuringSteps() {
  std::int64_t failed = 0, longest = 0;
  std::vector<std::string> per_step;
  for (const auto& [step, w] : windows_) {
    failed += w.errors;
    longest = std::max(longest, w.longest_ms);
    per_step.push_back(fmt::format("{} {}/{} ms", step, w.errors, w.longest_ms));
  }
  out_.event({{"event", "demo_application"}, {"failed", failed}, {"longest_ms", longest}},
             fmt::format("failed application transactions while dbsplit worked: {} (expected 0); "
                         "longest transaction {} ms\n  per step (failed/longest): {}",
                         failed, longest, util::join(per_step, ", ")));
  return failed;
}

}  // namespace dbsplit::demo
