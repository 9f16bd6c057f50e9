// TerminalProgress — larder::Progress drawn as a one-line bar on stderr.
//
// Draws only when stderr is a terminal; otherwise it is silent, so logs and
// pipes stay clean. advance() is thread-safe and redraws at most ~10 times a
// second.
#pragma once

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>

#include "larder/core/progress.h"

namespace larder::cli {

class TerminalProgress final : public Progress {
 public:
  TerminalProgress();
  void start(std::string_view label, std::int64_t total) override;
  void advance(std::int64_t units) override;
  void finish() override;

 private:
  void draw(bool final);

  bool enabled_;
  std::string label_;
  std::int64_t total_ = -1;
  std::atomic<std::int64_t> done_{0};
  std::mutex draw_mutex_;
  std::chrono::steady_clock::time_point last_draw_{};
};

}  // namespace larder::cli
