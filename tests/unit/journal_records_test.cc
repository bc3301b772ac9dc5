// Round trips of every journal record (write, read back, compare every field,
// also after reopening the file read-only) and the update semantics the
// engine relies on.
#include <string>
#include <vector>

#include "catch2/catch.hpp"
#include "journal/journal.h"
#include "unit/journal_fixture.h"
#include "util/error.h"

namespace dbsplit::journal {
namespace {

using test::TempDir;

// Text that breaks naive storage: quotes, newlines, non-ASCII and a NUL byte.
const std::string kAwkward =
    std::string("it's \"quoted\"\n\ttab; -- ünïcødé ✓ ") + std::string(1, '\0') + "after NUL";

void checkSameAction(const ActionRecord& got, const ActionRecord& want) {
  CHECK(got.step == want.step);
  CHECK(got.seq == want.seq);
  CHECK(got.id == want.id);
  CHECK(got.forward == want.forward);
  CHECK(got.inverse == want.inverse);
  CHECK(got.lock == want.lock);
  CHECK(got.transactional == want.transactional);
  CHECK(got.verify == want.verify);
  CHECK(got.sha256 == want.sha256);
  CHECK(got.status == want.status);
  CHECK(got.started_at == want.started_at);
  CHECK(got.finished_at == want.finished_at);
  CHECK(got.duration_ms == want.duration_ms);
  CHECK(got.attempts == want.attempts);
  CHECK(got.error == want.error);
  CHECK(got.database == want.database);
  CHECK(got.mover == want.mover);
  CHECK(got.mover_args == want.mover_args);
}

void checkSameStep(const StepRecord& got, const StepRecord& want) {
  CHECK(got.name == want.name);
  CHECK(got.status == want.status);
  CHECK(got.plan_hash == want.plan_hash);
  CHECK(got.chain_hash == want.chain_hash);
  CHECK(got.actions_total == want.actions_total);
  CHECK(got.actions_applied == want.actions_applied);
  CHECK(got.updated_at == want.updated_at);
  CHECK(got.error == want.error);
  CHECK(got.inputs == want.inputs);
}

void checkSameRun(const RunRecord& got, const RunRecord& want) {
  CHECK(got.id == want.id);
  CHECK(got.command == want.command);
  CHECK(got.step == want.step);
  CHECK(got.mode == want.mode);
  CHECK(got.dsn == want.dsn);
  CHECK(got.pid == want.pid);
  CHECK(got.started_at == want.started_at);
  CHECK(got.finished_at == want.finished_at);
  CHECK(got.exit_code == want.exit_code);
}

void checkSameEvent(const EventRecord& got, const EventRecord& want) {
  CHECK(got.id == want.id);
  CHECK(got.run_id == want.run_id);
  CHECK(got.at == want.at);
  CHECK(got.kind == want.kind);
  CHECK(got.step == want.step);
  CHECK(got.action_id == want.action_id);
  CHECK(got.json == want.json);
}

void checkSameSnapshot(const SnapshotRecord& got, const SnapshotRecord& want) {
  CHECK(got.id == want.id);
  CHECK(got.taken_at == want.taken_at);
  CHECK(got.kind == want.kind);
  CHECK(got.body == want.body);
}

// Planned actions as a step returns them; runtime fields left at their defaults.
std::vector<ActionRecord> plannedActions(const std::string& step, int n) {
  std::vector<ActionRecord> out;
  for (int i = 0; i < n; ++i) {
    ActionRecord a;
    a.step = step;
    a.seq = i;
    a.id = step + "/action/" + std::to_string(i);
    a.forward = "CREATE TABLE t" + std::to_string(i) + " (" + kAwkward + ")";
    a.inverse = i % 2 ? "" : "DROP TABLE t" + std::to_string(i);
    a.lock = "ACCESS EXCLUSIVE on public.t" + std::to_string(i);
    a.transactional = i % 3 != 2;
    a.verify = "SELECT to_regclass('t" + std::to_string(i) + "') IS NOT NULL";
    a.sha256 = std::string(63, 'a') + std::to_string(i % 10);
    if (i % 2) {
      a.database = "orders " + kAwkward;
      a.mover = "backfill";
      a.mover_args = R"({"table":"it's"})";
    }
    out.push_back(a);
  }
  return out;
}

RunRecord runOf(const std::string& command, const std::string& step) {
  RunRecord run;
  run.command = command;
  run.step = step;
  return run;
}

std::unique_ptr<Journal> newJournal(const TempDir& dir) {
  return Journal::open(dir.file("j.db"), Journal::Mode::kReadWrite);
}

std::unique_ptr<Journal> reopenReadOnly(const TempDir& dir) {
  return Journal::open(dir.file("j.db"), Journal::Mode::kReadOnly);
}

TEST_CASE("meta facts round-trip and a second write replaces the first", "[journal]") {
  TempDir dir;
  {
    auto j = newJournal(dir);
    CHECK_FALSE(j->meta("plan_hash").has_value());
    j->setMeta("plan_hash", "first");
    j->setMeta("plan_hash", kAwkward);
    j->setMeta("migration", "");
    CHECK(j->meta("plan_hash") == kAwkward);
  }
  auto j = reopenReadOnly(dir);
  CHECK(j->meta("plan_hash") == kAwkward);
  CHECK(j->meta("migration") == std::string());
}

TEST_CASE("runs round-trip with every field, and endRun finishes them", "[journal]") {
  TempDir dir;
  RunRecord want{0,  "run", "outbox", "apply", "host=db user=ops", 4242, "2024-05-01T10:00:00.000Z",
                 "", -1};
  {
    auto j = newJournal(dir);
    want.id = j->beginRun(want);
    CHECK(want.id > 0);
    auto runs = j->runs(10);
    REQUIRE(runs.size() == 1);
    checkSameRun(runs[0], want);

    j->endRun(want.id, 3);
    runs = j->runs(10);
    REQUIRE(runs.size() == 1);
    CHECK(runs[0].exit_code == 3);
    CHECK(runs[0].finished_at.size() == std::string("2024-05-01T10:00:00.000Z").size());
    want.exit_code = 3;
    want.finished_at = runs[0].finished_at;
    CHECK_THROWS_AS(j->endRun(want.id + 100, 0), Error);
  }
  auto j = reopenReadOnly(dir);
  auto runs = j->runs(0);
  REQUIRE(runs.size() == 1);
  checkSameRun(runs[0], want);
}

TEST_CASE("a run's dsn and an empty start time are filled in safely", "[journal]") {
  TempDir dir;
  auto j = newJournal(dir);
  RunRecord run;
  run.command = "run";
  run.dsn = "postgresql://ops:hunter2@db/shop";
  j->beginRun(run);
  auto stored = j->runs(1).at(0);
  CHECK(stored.dsn.find("hunter2") == std::string::npos);
  CHECK_FALSE(stored.started_at.empty());
  CHECK(stored.exit_code == -1);
  CHECK(stored.finished_at.empty());
}

TEST_CASE("runs(limit) returns the latest runs, oldest first", "[journal]") {
  TempDir dir;
  auto j = newJournal(dir);
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(j->beginRun(runOf("run", "s" + std::to_string(i))));
  auto latest = j->runs(2);
  REQUIRE(latest.size() == 2);
  CHECK(latest[0].id == ids[3]);
  CHECK(latest[1].id == ids[4]);
  CHECK(j->runs(0).size() == 5);
  CHECK(j->runs(100).size() == 5);
}

TEST_CASE("recorded steps and actions round-trip with every field", "[journal]") {
  TempDir dir;
  std::vector<ActionRecord> planned = plannedActions("outbox", 4);
  StepRecord want_step;
  {
    auto j = newJournal(dir);
    j->recordStep("outbox", "plan-hash-1", planned, StepStatus::kApplying,
                  R"({"events":[{"table":"public.orders"}]})");
    auto actions = j->actions("outbox");
    REQUIRE(actions.size() == planned.size());
    for (size_t i = 0; i < planned.size(); ++i) checkSameAction(actions[i], planned[i]);

    auto step = j->step("outbox");
    REQUIRE(step.has_value());
    want_step = {"outbox",
                 StepStatus::kApplying,
                 "plan-hash-1",
                 planned.back().sha256,
                 4,
                 0,
                 step->updated_at,
                 "",
                 R"({"events":[{"table":"public.orders"}]})"};
    checkSameStep(*step, want_step);
    CHECK_FALSE(step->updated_at.empty());
    CHECK_FALSE(j->step("ownership").has_value());
  }
  auto j = reopenReadOnly(dir);
  auto actions = j->actions("outbox");
  REQUIRE(actions.size() == planned.size());
  for (size_t i = 0; i < planned.size(); ++i) checkSameAction(actions[i], planned[i]);
  checkSameStep(j->step("outbox").value(), want_step);
}

TEST_CASE("recording a step takes seq from position and resets runtime fields", "[journal]") {
  TempDir dir;
  auto j = newJournal(dir);
  std::vector<ActionRecord> planned = plannedActions("revoke", 2);
  for (auto& a : planned) {
    a.step = "elsewhere";
    a.seq = 7;
    a.status = ActionStatus::kApplied;
    a.started_at = "2024-01-01T00:00:00.000Z";
    a.finished_at = "2024-01-01T00:00:01.000Z";
    a.duration_ms = 1000;
    a.attempts = 3;
    a.error = "old";
  }
  j->recordStep("revoke", "h", planned, StepStatus::kPending);
  auto actions = j->actions("revoke");
  REQUIRE(actions.size() == 2);
  for (int i = 0; i < 2; ++i) {
    ActionRecord want = plannedActions("revoke", 2)[static_cast<size_t>(i)];
    checkSameAction(actions[static_cast<size_t>(i)], want);
  }
}

TEST_CASE("recording a step again replaces its actions with pending ones", "[journal]") {
  TempDir dir;
  auto j = newJournal(dir);
  j->recordStep("outbox", "h1", plannedActions("outbox", 3), StepStatus::kApplying);
  j->setActionStatus("outbox", "outbox/action/0", ActionStatus::kStarted);
  j->setActionStatus("outbox", "outbox/action/0", ActionStatus::kApplied, 12);
  j->setStepStatus("outbox", StepStatus::kFailed, "boom");

  std::vector<ActionRecord> replanned = plannedActions("outbox", 2);
  j->recordStep("outbox", "h2", replanned, StepStatus::kPending);
  auto actions = j->actions("outbox");
  REQUIRE(actions.size() == 2);
  for (size_t i = 0; i < 2; ++i) checkSameAction(actions[i], replanned[i]);
  auto step = j->step("outbox").value();
  CHECK(step.status == StepStatus::kPending);
  CHECK(step.plan_hash == "h2");
  CHECK(step.chain_hash == replanned.back().sha256);
  CHECK(step.actions_total == 2);
  CHECK(step.actions_applied == 0);
  CHECK(step.error.empty());

  j->recordStep("outbox", "h3", {}, StepStatus::kPending);
  CHECK(j->actions("outbox").empty());
  CHECK(j->step("outbox")->chain_hash.empty());
}

TEST_CASE("a duplicate action id leaves the earlier record of the step intact", "[journal]") {
  TempDir dir;
  auto j = newJournal(dir);
  j->recordStep("outbox", "h1", plannedActions("outbox", 2), StepStatus::kPending);
  auto duplicated = plannedActions("outbox", 2);
  duplicated[1].id = duplicated[0].id;
  Error e =
      test::errorFrom([&] { j->recordStep("outbox", "h2", duplicated, StepStatus::kApplying); });
  CHECK(e.kind() == "journal_error");
  CHECK(toInt(e.code()) == 1);
  CHECK(j->actions("outbox").size() == 2);
  CHECK(j->step("outbox")->plan_hash == "h1");
}

TEST_CASE("steps are listed by name and actions by seq", "[journal]") {
  TempDir dir;
  auto j = newJournal(dir);
  for (const char* name : {"split", "catalogue", "outbox", "ownership"}) {
    j->recordStep(name, "h", plannedActions(name, 3), StepStatus::kPending);
  }
  std::vector<std::string> names;
  for (const auto& s : j->steps()) names.push_back(s.name);
  CHECK(names == std::vector<std::string>{"catalogue", "outbox", "ownership", "split"});
  auto actions = j->actions("split");
  REQUIRE(actions.size() == 3);
  for (int i = 0; i < 3; ++i) CHECK(actions[static_cast<size_t>(i)].seq == i);
}

TEST_CASE("action status changes set start, finish, duration, attempts and error", "[journal]") {
  TempDir dir;
  auto j = newJournal(dir);
  j->recordStep("outbox", "h", plannedActions("outbox", 2), StepStatus::kApplying);
  const std::string id = "outbox/action/0";

  j->setActionStatus("outbox", id, ActionStatus::kStarted);
  ActionRecord a = j->actions("outbox")[0];
  CHECK(a.status == ActionStatus::kStarted);
  CHECK_FALSE(a.started_at.empty());
  CHECK(a.finished_at.empty());
  CHECK(a.attempts == 1);

  j->setActionStatus("outbox", id, ActionStatus::kFailed, 250,
                     "connection to host=db password=hunter2 failed");
  a = j->actions("outbox")[0];
  CHECK(a.status == ActionStatus::kFailed);
  CHECK_FALSE(a.finished_at.empty());
  CHECK(a.finished_at >= a.started_at);
  CHECK(a.duration_ms == 250);
  CHECK(a.error.find("hunter2") == std::string::npos);
  CHECK(a.error.find("connection to host=db") != std::string::npos);

  j->setActionStatus("outbox", id, ActionStatus::kStarted);
  a = j->actions("outbox")[0];
  CHECK(a.attempts == 2);
  CHECK(a.error.empty());
  CHECK(a.finished_at.empty());
  CHECK(a.duration_ms == 0);

  j->setActionStatus("outbox", id, ActionStatus::kApplied, 40);
  a = j->actions("outbox")[0];
  CHECK(a.status == ActionStatus::kApplied);
  CHECK(a.duration_ms == 40);
  CHECK(a.error.empty());
  CHECK(j->step("outbox")->actions_applied == 1);

  j->setActionStatus("outbox", id, ActionStatus::kRollingBack);
  a = j->actions("outbox")[0];
  CHECK(a.status == ActionStatus::kRollingBack);
  CHECK(a.duration_ms == 40);
  CHECK(j->step("outbox")->actions_applied == 0);

  j->setActionStatus("outbox", id, ActionStatus::kRolledBack, 5);
  a = j->actions("outbox")[0];
  CHECK(a.status == ActionStatus::kRolledBack);
  CHECK(a.duration_ms == 5);
  CHECK(a.attempts == 2);
}

TEST_CASE("a step status change stores a redacted error and the time", "[journal]") {
  TempDir dir;
  auto j = newJournal(dir);
  j->recordStep("outbox", "h", {}, StepStatus::kApplying);
  j->setStepStatus("outbox", StepStatus::kFailed, "lost postgresql://ops:hunter2@db/shop");
  auto step = j->step("outbox").value();
  CHECK(step.status == StepStatus::kFailed);
  CHECK(step.error.find("hunter2") == std::string::npos);
  CHECK_FALSE(step.updated_at.empty());
  j->setStepStatus("outbox", StepStatus::kApplied);
  CHECK(j->step("outbox")->error.empty());
}

TEST_CASE("changing the status of an unknown step or action is an error", "[journal]") {
  TempDir dir;
  auto j = newJournal(dir);
  j->recordStep("outbox", "h", plannedActions("outbox", 1), StepStatus::kPending);
  CHECK_THROWS_AS(j->setStepStatus("nosuch", StepStatus::kApplied), Error);
  CHECK_THROWS_AS(j->setActionStatus("outbox", "nosuch", ActionStatus::kStarted), Error);
  CHECK_THROWS_AS(j->setActionStatus("nosuch", "outbox/action/0", ActionStatus::kApplied), Error);
}

TEST_CASE("events round-trip with every field", "[journal]") {
  TempDir dir;
  std::vector<EventRecord> want;
  {
    auto j = newJournal(dir);
    std::int64_t run = j->beginRun(runOf("run", "outbox"));
    want.push_back({0, run, "2024-05-01T10:00:00.000Z", "action", "outbox", "outbox/table/x",
                    R"({"event":"action","note":")" + kAwkward + "\"}"});
    want.push_back({0, 0, "2024-05-01T10:00:01.000Z", "warning", "", "", R"({"event":"w"})"});
    for (auto& e : want) j->logEvent(e);
    auto got = j->events(0, 0);
    REQUIRE(got.size() == 2);
    for (size_t i = 0; i < 2; ++i) {
      want[i].id = got[i].id;
      checkSameEvent(got[i], want[i]);
    }
    CHECK(want[0].id < want[1].id);
  }
  auto got = reopenReadOnly(dir)->events(0, 0);
  REQUIRE(got.size() == 2);
  for (size_t i = 0; i < 2; ++i) checkSameEvent(got[i], want[i]);
}

TEST_CASE("events(run, limit) returns a run's latest events, oldest first", "[journal]") {
  TempDir dir;
  auto j = newJournal(dir);
  std::int64_t first = j->beginRun(runOf("run", "outbox"));
  std::int64_t second = j->beginRun(runOf("rollback", "outbox"));
  for (int i = 0; i < 6; ++i) {
    j->logEvent({0, i % 2 ? second : first, "", "n" + std::to_string(i), "", "", "{}"});
  }
  auto of_second = j->events(second, 2);
  REQUIRE(of_second.size() == 2);
  CHECK(of_second[0].kind == "n3");
  CHECK(of_second[1].kind == "n5");
  CHECK(j->events(first, 0).size() == 3);
  auto latest = j->events(0, 4);
  REQUIRE(latest.size() == 4);
  CHECK(latest.front().kind == "n2");
  CHECK(latest.back().kind == "n5");
  CHECK_FALSE(latest.front().at.empty());
}

TEST_CASE("event json is redacted before it is stored", "[journal]") {
  TempDir dir;
  auto j = newJournal(dir);
  j->logEvent(
      {0, 0, "", "error", "", "", R"({"event":"error","dsn":"postgresql://ops:hunter2@db/shop"})"});
  auto stored = j->events(0, 1).at(0);
  CHECK(stored.json.find("hunter2") == std::string::npos);
  CHECK(stored.json.find("postgresql://ops:") != std::string::npos);
}

TEST_CASE("an event naming a run that does not exist is refused", "[journal]") {
  TempDir dir;
  auto j = newJournal(dir);
  CHECK_THROWS_AS(j->logEvent({0, 999, "", "x", "", "", "{}"}), Error);
  CHECK(j->events(0, 0).empty());
}

TEST_CASE("snapshots round-trip and the latest of a kind is found", "[journal]") {
  TempDir dir;
  std::vector<SnapshotRecord> want;
  {
    auto j = newJournal(dir);
    CHECK_FALSE(j->latestSnapshot("catalogue").has_value());
    for (const std::string& body : {std::string(R"({"accesses":[]})"), kAwkward}) {
      std::int64_t id = j->addSnapshot("catalogue", body);
      want.push_back({id, "", "catalogue", body});
    }
    j->addSnapshot("compare", "{}");
    auto got = j->snapshots("catalogue");
    REQUIRE(got.size() == 2);
    for (size_t i = 0; i < 2; ++i) {
      CHECK_FALSE(got[i].taken_at.empty());
      want[i].taken_at = got[i].taken_at;
      checkSameSnapshot(got[i], want[i]);
    }
    checkSameSnapshot(j->latestSnapshot("catalogue").value(), want[1]);
  }
  auto j = reopenReadOnly(dir);
  auto got = j->snapshots("catalogue");
  REQUIRE(got.size() == 2);
  for (size_t i = 0; i < 2; ++i) checkSameSnapshot(got[i], want[i]);
  CHECK(j->snapshots("compare").size() == 1);
  CHECK(j->snapshots("none").empty());
}

TEST_CASE("deleting a snapshot removes only that one and ignores unknown ids", "[journal]") {
  TempDir dir;
  auto j = newJournal(dir);
  std::int64_t first = j->addSnapshot("catalogue", "{\"n\":1}");
  std::int64_t second = j->addSnapshot("catalogue", "{\"n\":2}");
  j->deleteSnapshot(second);
  j->deleteSnapshot(second + 100);
  auto left = j->snapshots("catalogue");
  REQUIRE(left.size() == 1);
  CHECK(left[0].id == first);
  CHECK(j->latestSnapshot("catalogue")->id == first);
  auto ro = reopenReadOnly(dir);
  CHECK(test::errorFrom([&] { ro->deleteSnapshot(first); }).kind() == "journal_read_only");
}

TEST_CASE("status names round-trip and unknown names are refused", "[journal]") {
  for (auto s : {StepStatus::kPending, StepStatus::kApplying, StepStatus::kApplied,
                 StepStatus::kFailed, StepStatus::kRolledBack, StepStatus::kRollingBack}) {
    CHECK(stepStatusFromString(toString(s)) == s);
  }
  for (auto s : {ActionStatus::kPending, ActionStatus::kStarted, ActionStatus::kApplied,
                 ActionStatus::kFailed, ActionStatus::kRollingBack, ActionStatus::kRolledBack}) {
    CHECK(actionStatusFromString(toString(s)) == s);
  }
  // The names scripts see in `status --json` (DESIGN §4).
  CHECK(std::string(toString(StepStatus::kRolledBack)) == "rolled_back");
  CHECK(std::string(toString(ActionStatus::kStarted)) == "started");
  CHECK_THROWS_AS(stepStatusFromString("done"), Error);
  CHECK_THROWS_AS(actionStatusFromString(""), Error);
}

TEST_CASE("every step status is stored and read back", "[journal]") {
  TempDir dir;
  auto j = newJournal(dir);
  j->recordStep("outbox", "h", plannedActions("outbox", 1), StepStatus::kPending);
  for (auto s : {StepStatus::kPending, StepStatus::kApplying, StepStatus::kApplied,
                 StepStatus::kFailed, StepStatus::kRolledBack, StepStatus::kRollingBack}) {
    j->setStepStatus("outbox", s);
    CHECK(j->step("outbox")->status == s);
  }
  for (auto s : {ActionStatus::kPending, ActionStatus::kStarted, ActionStatus::kApplied,
                 ActionStatus::kFailed, ActionStatus::kRollingBack, ActionStatus::kRolledBack}) {
    j->setActionStatus("outbox", "outbox/action/0", s);
    CHECK(j->actions("outbox")[0].status == s);
  }
}

TEST_CASE("transaction commits everything or, on an exception, nothing", "[journal]") {
  TempDir dir;
  auto j = newJournal(dir);
  CHECK_THROWS_AS(j->transaction([&] {
    j->setMeta("a", "1");
    j->recordStep("outbox", "h", plannedActions("outbox", 2), StepStatus::kApplying);
    throw std::runtime_error("engine failed");
  }),
                  std::runtime_error);
  CHECK_FALSE(j->meta("a").has_value());
  CHECK_FALSE(j->step("outbox").has_value());

  j->transaction([&] {
    j->setMeta("a", "1");
    j->recordStep("outbox", "h", plannedActions("outbox", 2), StepStatus::kApplying);
    std::int64_t run = j->beginRun(runOf("run", "outbox"));
    j->logEvent({0, run, "", "step", "outbox", "", "{}"});
  });
  CHECK(j->meta("a") == "1");
  CHECK(j->actions("outbox").size() == 2);
  CHECK(j->events(0, 0).size() == 1);
}

TEST_CASE("a failed recordStep inside a transaction leaves the transaction usable", "[journal]") {
  TempDir dir;
  auto j = newJournal(dir);
  j->transaction([&] {
    j->setMeta("before", "1");
    auto duplicated = plannedActions("outbox", 2);
    duplicated[1].id = duplicated[0].id;
    CHECK_THROWS_AS(j->recordStep("outbox", "h", duplicated, StepStatus::kPending), Error);
    j->setMeta("after", "1");
  });
  CHECK(j->meta("before") == "1");
  CHECK(j->meta("after") == "1");
  CHECK_FALSE(j->step("outbox").has_value());
}

}  // namespace
}  // namespace dbsplit::journal
