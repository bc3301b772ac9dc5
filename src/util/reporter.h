// Everything dbsplit tells the user goes through one Reporter: human lines on
// stdout, warnings on stderr, JSON Lines on stdout with --json (DESIGN §4), and
// progress bars on stderr when it is a terminal. Secrets are redacted here, once.
//
// Thread-safety: a Reporter may be shared by threads (a relay worker, a progress
// ticker); every method takes an internal mutex.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "nlohmann/json.hpp"
#include "util/error.h"

namespace dbsplit::util {

struct OutputOptions {
  bool json = false;     // JSON Lines on stdout, nothing else there
  bool progress = true;  // false with --no-progress
  bool stderr_is_tty = false;
};

class Progress;

class Reporter {
 public:
  explicit Reporter(OutputOptions options);
  ~Reporter();

  const OutputOptions& options() const { return options_; }
  bool json() const { return options_.json; }

  // A line for people; dropped in --json mode.
  void say(std::string_view line);
  // A warning: stderr for people, {"event":"warning"} in --json mode.
  void warn(std::string_view message);
  // A structured event. `human` (may be empty) is what people see instead.
  void event(nlohmann::json ev, std::string_view human = {});
  // The last line of every command (DESIGN §4).
  void result(ExitCode code, const std::vector<std::string>& next_steps,
              nlohmann::json extra = nlohmann::json::object());
  // Reports an error: one clear line (plus details and hint) for people,
  // {"event":"error",...} in --json mode.
  void error(const Error& e);

  // Every event also goes to the tap (the journal's event log), when set.
  void setTap(std::function<void(const nlohmann::json&)> tap);

  // A progress bar for `total` units of `unit` (0 = unknown total). Draws only on
  // a terminal, with progress enabled and outside --json.
  std::unique_ptr<Progress> progress(std::string label, std::int64_t total, std::string unit);

 private:
  friend class Progress;
  void drawBar(const std::string& text);
  void clearBarLocked();

  OutputOptions options_;
  std::mutex mu_;
  std::function<void(const nlohmann::json&)> tap_;
  bool bar_visible_ = false;
};

// One long-running task's progress. Cheap to call often: it redraws at most ten
// times a second.
class Progress {
 public:
  Progress(Reporter* reporter, std::string label, std::int64_t total, std::string unit, bool draw);
  ~Progress();
  void advance(std::int64_t n = 1);
  void set(std::int64_t done);
  // A transient note shown beside the bar ("retry 3/10 after lock timeout").
  void note(std::string text);
  void finish();

 private:
  void maybeDraw(bool force);

  Reporter* reporter_;
  std::string label_;
  std::int64_t total_;
  std::string unit_;
  bool draw_;
  std::int64_t done_ = 0;
  std::string note_;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace dbsplit::util
