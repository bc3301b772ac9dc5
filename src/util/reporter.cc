#include "util/reporter.h"

#include <cstdio>
#include <iostream>

#include "fmt/format.h"
#include "util/text.h"

namespace dbsplit::util {
namespace {

void redactJson(nlohmann::json& j) {
  if (j.is_string()) {
    j = redactSecrets(j.get<std::string>());
  } else if (j.is_structured()) {
    for (auto& v : j) redactJson(v);
  }
}

}  // namespace

Reporter::Reporter(OutputOptions options) : options_(options) {}

Reporter::~Reporter() {
  std::lock_guard<std::mutex> lock(mu_);
  clearBarLocked();
}

void Reporter::setTap(std::function<void(const nlohmann::json&)> tap) {
  std::lock_guard<std::mutex> lock(mu_);
  tap_ = std::move(tap);
}

void Reporter::say(std::string_view line) {
  if (options_.json) return;
  std::lock_guard<std::mutex> lock(mu_);
  clearBarLocked();
  std::cout << redactSecrets(std::string(line)) << '\n' << std::flush;
}

void Reporter::warn(std::string_view message) {
  event({{"event", "warning"}, {"message", std::string(message)}},
        fmt::format("warning: {}", message));
}

void Reporter::event(nlohmann::json ev, std::string_view human) {
  redactJson(ev);
  std::lock_guard<std::mutex> lock(mu_);
  if (tap_) tap_(ev);
  clearBarLocked();
  if (options_.json) {
    std::cout << ev.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n'
              << std::flush;
  } else if (!human.empty()) {
    bool to_stderr = ev.value("event", "") == "warning" || ev.value("event", "") == "error";
    (to_stderr ? std::cerr : std::cout) << redactSecrets(std::string(human)) << '\n' << std::flush;
  }
}

void Reporter::error(const Error& e) {
  nlohmann::json ev = {{"event", "error"},
                       {"kind", e.kind()},
                       {"message", e.what()},
                       {"exit_code", toInt(e.code())}};
  if (!e.hint().empty()) ev["hint"] = e.hint();
  if (!e.sqlstate().empty()) ev["sqlstate"] = e.sqlstate();
  if (!e.details().empty()) ev["details"] = e.details();
  std::string human = fmt::format("error: {}", e.what());
  for (const auto& d : e.details()) human += "\n  " + d;
  if (!e.hint().empty()) human += "\nhint: " + e.hint();
  event(std::move(ev), human);
}

void Reporter::result(ExitCode code, const std::vector<std::string>& next_steps,
                      nlohmann::json extra) {
  nlohmann::json ev = {{"event", "result"},
                       {"ok", code == ExitCode::kOk},
                       {"exit_code", toInt(code)},
                       {"next_steps", next_steps}};
  for (auto& [k, v] : extra.items()) ev[k] = v;
  std::string human;
  if (!next_steps.empty()) {
    human = "next: " + join(next_steps, "\n      ");
  }
  event(std::move(ev), human);
}

std::unique_ptr<Progress> Reporter::progress(std::string label, std::int64_t total,
                                             std::string unit) {
  bool draw = options_.progress && options_.stderr_is_tty && !options_.json;
  return std::make_unique<Progress>(this, std::move(label), total, std::move(unit), draw);
}

void Reporter::drawBar(const std::string& text) {
  std::lock_guard<std::mutex> lock(mu_);
  std::cerr << "\r\x1b[2K" << text << std::flush;
  bar_visible_ = true;
}

void Reporter::clearBarLocked() {
  if (!bar_visible_) return;
  std::cerr << "\r\x1b[2K" << std::flush;
  bar_visible_ = false;
}

Progress::Progress(Reporter* reporter, std::string label, std::int64_t total, std::string unit,
                   bool draw)
    : reporter_(reporter),
      label_(std::move(label)),
      total_(total),
      unit_(std::move(unit)),
      draw_(draw),
      start_(std::chrono::steady_clock::now()) {}

Progress::~Progress() { finish(); }

void Progress::advance(std::int64_t n) {
  done_ += n;
  maybeDraw(false);
}

void Progress::set(std::int64_t done) {
  done_ = done;
  maybeDraw(false);
}

void Progress::note(std::string text) {
  note_ = std::move(text);
  maybeDraw(true);
}

void Progress::finish() {
  if (finished_) return;
  finished_ = true;
  if (!draw_) return;
  std::lock_guard<std::mutex> lock(reporter_->mu_);
  reporter_->clearBarLocked();
}

void Progress::maybeDraw(bool force) {
  if (!draw_ || finished_) return;
  auto now = std::chrono::steady_clock::now();
  if (!force && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  double secs = std::chrono::duration<double>(now - start_).count();
  double rate = secs > 0 ? static_cast<double>(done_) / secs : 0;
  std::string text;
  if (total_ > 0) {
    const int width = 24;
    int filled = static_cast<int>(width * std::min<double>(1.0, double(done_) / double(total_)));
    // Totals are often estimates (reltuples): past one, the time left is unknown.
    std::string eta = "?";
    if (rate > 0 && done_ < total_) eta = fmt::format("{:.0f}s", double(total_ - done_) / rate);
    text = fmt::format("{} [{}{}] {}/{} {} {:.1f}/s ETA {}", label_, std::string(filled, '#'),
                       std::string(width - filled, '.'), done_, total_, unit_, rate, eta);
  } else {
    text = fmt::format("{} {} {} {:.1f}/s", label_, done_, unit_, rate);
  }
  if (!note_.empty()) text += "  " + note_;
  reporter_->drawBar(text);
}

}  // namespace dbsplit::util
