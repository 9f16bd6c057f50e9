#include "terminal_progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

namespace larder::cli {

TerminalProgress::TerminalProgress() : enabled_(isatty(STDERR_FILENO) == 1) {}

void TerminalProgress::start(std::string_view label, std::int64_t total) {
  label_ = label;
  total_ = total;
  done_ = 0;
  draw(false);
}

void TerminalProgress::advance(std::int64_t units) {
  done_ += units;
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  std::unique_lock lock(draw_mutex_, std::try_to_lock);
  if (lock && now - last_draw_ > std::chrono::milliseconds(100)) {
    last_draw_ = now;
    draw(false);
  }
}

void TerminalProgress::finish() {
  std::lock_guard lock(draw_mutex_);
  draw(true);
}

void TerminalProgress::draw(bool final) {
  if (!enabled_) return;
  constexpr int kWidth = 30;
  const std::int64_t done = done_.load();
  std::string line;
  if (total_ > 0) {
    const double fraction = std::min(1.0, static_cast<double>(done) / static_cast<double>(total_));
    const int filled = static_cast<int>(fraction * kWidth);
    line = fmt::format("\r{} [{}{}] {:3.0f}%", label_, std::string(filled, '#'),
                       std::string(kWidth - filled, ' '), fraction * 100);
  } else {
    line = fmt::format("\r{} {}", label_, done);
  }
  // Clear what is left of a longer previous line.
  std::fputs(line.c_str(), stderr);
  std::fputs(final ? "\x1b[K\n" : "\x1b[K", stderr);
  std::fflush(stderr);
}

}  // namespace larder::cli
