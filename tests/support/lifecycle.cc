#include "support/lifecycle.h"

#include <cstdio>
#include <fstream>

#include "catch2/catch.hpp"

namespace dbsplit::test {
namespace {

// `diff -u` of two texts (a dump, an ACL state): what a failed comparison
// prints instead of both texts whole.
std::string unifiedDiff(const std::string& expected, const std::string& actual) {
  if (expected == actual) return {};
  TempDir dir;
  dir.write("expected", expected);
  dir.write("actual", actual);
  std::string out;
  if (FILE* p =
          ::popen(("diff -u " + dir.file("expected") + " " + dir.file("actual")).c_str(), "r")) {
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    ::pclose(p);
  }
  return out.empty() ? "(the texts differ)" : out;
}

#define CHECK_SAME(actual, expected)                         \
  do {                                                       \
    const std::string diff_ = unifiedDiff(expected, actual); \
    INFO(diff_);                                             \
    CHECK(diff_.empty());                                    \
  } while (false)

}  // namespace

std::vector<std::string> actionIds(const CliFn& cli, const std::string& step) {
  CliResult r = cli({"plan", step, "--json"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  std::vector<std::string> ids;
  for (const auto& a : eventsOf(jsonLines(r.out), "action")) ids.push_back(a["id"]);
  return ids;
}

namespace {

// The run of one lifecycle: the rig, its hooks, and what the uninterrupted
// run left (the baseline every recovery is compared with).
class Run {
 public:
  Run(const LifecycleRig& rig, const LifecycleHooks& hooks) : rig_(rig), h_(hooks) {}

  void all() {
    const std::vector<std::string> ids = actionIds(plain(), rig_.step);
    if (h_.actions) h_.actions(ids);
    original_ = rig_.dump();
    original_state_ = rig_.state();
    dryRun();
    rehearse();
    apply();
    rollback();
    again();
    if (h_.faults) faults(ids);
  }

 private:
  CliFn plain() const {
    return [this](const std::vector<std::string>& args) { return rig_.cli(args, {}); };
  }
  CliResult cli(std::vector<std::string> args, const std::string& fault = {}) const {
    Env env = h_.env;
    if (!fault.empty()) env["DBSPLIT_FAULT"] = fault;
    return rig_.cli(args, env);
  }
  // Only a step that asks gets --yes: the others must not ask.
  std::vector<std::string> runArgs(std::vector<std::string> extra = {}) const {
    std::vector<std::string> args = {"run", rig_.step};
    if (rig_.apply_asks) args.push_back("--yes");
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }
  CliResult run(const std::string& fault = {}) const { return cli(runArgs(), fault); }
  CliResult rollbackCli(const std::string& fault = {}) const {
    std::vector<std::string> args = {"rollback", rig_.step};
    if (rig_.rollback_asks) args.push_back("--yes");
    return cli(args, fault);
  }
  nlohmann::json status() const { return stepStatusOf(plain(), rig_.step); }

  void dryRun() {
    const std::string journal = fileSha256(rig_.journal);
    CliResult dry = cli({"run", rig_.step, "--dry-run"});
    INFO("dry-run of " << rig_.step << "\n" << dry.out << dry.err);
    REQUIRE(dry.exit_code == 0);
    CHECK_SAME(rig_.dump(), original_);
    CHECK_SAME(rig_.state(), original_state_);
    CHECK(fileSha256(rig_.journal) == journal);
    if (h_.dry_run) h_.dry_run(dry);
  }

  void rehearse() {
    CliResult r = cli({"run", rig_.step, "--rehearse", "--json"});
    INFO("rehearsal of " << rig_.step << "\n" << r.out << r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(!eventsOf(jsonLines(r.out), "rehearsal").empty());
    CHECK_SAME(rig_.dump(), original_);
    CHECK_SAME(rig_.state(), original_state_);
    if (h_.rehearse) h_.rehearse(r);
  }

  void apply() {
    if (h_.before_apply) h_.before_apply();
    CliResult r = cli(runArgs({"--json"}));
    INFO("apply of " << rig_.step << "\n" << r.out << r.err);
    REQUIRE(r.exit_code == 0);
    REQUIRE(!fileSha256(rig_.journal).empty());  // the rig names the journal the run wrote
    applied_ = rig_.dump();
    applied_state_ = rig_.state();
    CHECK(applied_ + applied_state_ != original_ + original_state_);  // the step changed something
    CHECK(status()["status"] == "applied");
    if (h_.apply) h_.apply(r);
    if (h_.applied) h_.applied();
    // A dry-run of the applied step plans nothing new and fails nothing.
    const std::string journal = fileSha256(rig_.journal);
    CliResult dry = cli({"run", rig_.step, "--dry-run"});
    INFO(dry.out << dry.err);
    CHECK(dry.exit_code == 0);
    CHECK(fileSha256(rig_.journal) == journal);
  }

  void rollback() {
    if (h_.before_rollback) h_.before_rollback();
    CliResult r = rollbackCli();
    INFO("rollback of " << rig_.step << "\n" << r.out << r.err);
    REQUIRE(r.exit_code == 0);
    CHECK_SAME(rig_.dump(), original_);
    CHECK_SAME(rig_.state(), original_state_);
    CHECK(status()["status"] == "rolled_back");
    if (h_.rolled_back) h_.rolled_back(r);
  }

  // A rolled-back step runs anew, ends where the first run ended (its checks
  // pass), and rolls back again; a dry-run from there changes nothing either.
  void again() {
    CliResult r = run();
    INFO("second apply of " << rig_.step << "\n" << r.out << r.err);
    REQUIRE(r.exit_code == 0);
    CHECK_SAME(rig_.dump(), applied_);
    CHECK_SAME(rig_.state(), applied_state_);
    if (h_.applied) h_.applied();
    CliResult rb = rollbackCli();
    INFO(rb.out << rb.err);
    REQUIRE(rb.exit_code == 0);
    CHECK_SAME(rig_.dump(), original_);
    CHECK_SAME(rig_.state(), original_state_);
    const std::string journal = fileSha256(rig_.journal);
    CliResult dry = cli({"run", rig_.step, "--dry-run", "--json"});
    INFO(dry.out << dry.err);
    CHECK(dry.exit_code == 0);
    CHECK(fileSha256(rig_.journal) == journal);
    CHECK_SAME(rig_.dump(), original_);
  }

  void faults(const std::vector<std::string>& ids) {
    std::vector<std::string> all;
    for (const std::string& id : ids) {
      all.push_back(id + ":before");
      all.push_back(id + ":after");
    }
    if (h_.mover_faults) {
      for (const std::string& f : h_.mover_faults(ids)) all.push_back(f);
    }
    bool resume = true;
    for (const std::string& fault : all) {
      INFO("fault " << fault);
      fault_(fault, resume);
      if (h_.recovery == Recovery::kAlternate) resume = !resume;
    }
  }

  void fault_(const std::string& fault, bool resume) {
    const std::string point = fault.substr(fault.rfind(':') + 1);
    const std::string where = fault.substr(0, fault.rfind(':'));
    const bool boundary = where.find('#') == std::string::npos;
    if (h_.before_fault) h_.before_fault();
    CliResult crash = run(fault);
    INFO(crash.out << crash.err);
    REQUIRE(crash.exit_code == 128 + 9);
    nlohmann::json st = status();
    CHECK(st["status"] == "applying");
    CHECK(st["interrupted"] == true);
    if (boundary) {
      CHECK(st["interrupted_action"] == where);
      if (h_.status_tells_committed) CHECK(st["committed"] == (point == "after"));
    }
    CHECK(run().exit_code == 3);  // resume or rollback first

    if (resume) {
      CliResult r = cli({"resume"});
      INFO(r.out << r.err);
      REQUIRE(r.exit_code == 0);
      CHECK_SAME(rig_.dump(), applied_);
      CHECK_SAME(rig_.state(), applied_state_);
      CHECK(status()["status"] == "applied");
      if (h_.applied) h_.applied();
    }
    if (resume && boundary && h_.rollback_fault && h_.rollback_fault(fault)) {
      // The same fault while rolling back; resume finishes the rollback.
      CliResult crash_rb = rollbackCli(fault);
      INFO(crash_rb.out << crash_rb.err);
      REQUIRE(crash_rb.exit_code == 128 + 9);
      nlohmann::json rst = status();
      CHECK(rst["status"] == "failed");
      CHECK(rst["operation"] == "rollback");
      CHECK(rst["interrupted_action"] == where);
      CliResult r = cli({"resume"});
      INFO(r.out << r.err);
      REQUIRE(r.exit_code == 0);
    } else {
      CliResult rb = rollbackCli();
      INFO(rb.out << rb.err);
      REQUIRE(rb.exit_code == 0);
    }
    CHECK_SAME(rig_.dump(), original_);
    CHECK_SAME(rig_.state(), original_state_);
  }

  const LifecycleRig& rig_;
  const LifecycleHooks& h_;
  std::string original_, original_state_, applied_, applied_state_;
};

}  // namespace

void runLifecycle(const LifecycleRig& rig, const LifecycleHooks& hooks) { Run(rig, hooks).all(); }

}  // namespace dbsplit::test
