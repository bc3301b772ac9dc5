#include "engine/run_scope.h"

#include <unistd.h>

#include "util/time.h"

namespace dbsplit::engine {

RunScope::RunScope(journal::Journal& journal, util::Reporter& out, const std::string& command,
                   const std::string& step, const std::string& mode,
                   const std::string& redacted_dsn)
    : journal_(journal), out_(out) {
  journal::RunRecord run;
  run.command = command;
  run.step = step;
  run.mode = mode;
  run.dsn = redacted_dsn;
  run.pid = static_cast<int>(::getpid());
  id_ = journal_.beginRun(run);
  out_.setTap([this](const nlohmann::json& ev) {
    journal::EventRecord rec;
    rec.run_id = id_;
    rec.at = util::nowIso8601();
    rec.kind = ev.value("event", "");
    rec.step = ev.value("step", "");
    rec.action_id = ev.contains("id") && ev["id"].is_string() ? ev["id"].get<std::string>()
                                                              : ev.value("action", "");
    rec.json = ev.dump();
    pending_.push_back(std::move(rec));
  });
}

void RunScope::flushEvents() {
  for (const auto& rec : pending_) {
    try {
      journal_.logEvent(rec);
    } catch (const std::exception&) {
      // The event log is history, not state: losing one line must not stop a run.
    }
  }
  pending_.clear();
}

void RunScope::finish(ExitCode code) {
  if (finished_) return;
  finished_ = true;
  out_.setTap(nullptr);
  try {
    journal_.transaction([&] {
      flushEvents();
      journal_.endRun(id_, toInt(code));
    });
  } catch (const std::exception&) {
  }
}

RunScope::~RunScope() { finish(ExitCode::kStepFailed); }

}  // namespace dbsplit::engine
