// Progress — how long-running work reports how far it has come.
//
// The library reports to a Progress it is handed and never draws anything
// itself; the CLI draws a bar on a terminal, everything else is silent
// (silent_progress()). advance() may be called from many threads at once;
// start() and finish() from the thread that owns the work.
#pragma once

#include <cstdint>
#include <string_view>

namespace larder {

class Progress {
 public:
  virtual ~Progress() = default;
  // `total` units of work are coming; < 0 when the total is unknown.
  virtual void start(std::string_view label, std::int64_t total) = 0;
  virtual void advance(std::int64_t units) = 0;
  virtual void finish() = 0;
};

// A Progress that ignores every report; shared, stateless.
Progress& silent_progress();

// Calls start() now and finish() when the scope ends, even by exception.
class ProgressScope {
 public:
  ProgressScope(Progress& progress, std::string_view label, std::int64_t total)
      : progress_(progress) {
    progress_.start(label, total);
  }
  ~ProgressScope() { progress_.finish(); }
  ProgressScope(const ProgressScope&) = delete;
  ProgressScope& operator=(const ProgressScope&) = delete;

  void advance(std::int64_t units) { progress_.advance(units); }

 private:
  Progress& progress_;
};

}  // namespace larder
