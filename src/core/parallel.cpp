#include "larder/core/parallel.h"

#include <fmt/format.h>
#include <tbb/blocked_range.h>
#include <tbb/global_control.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include "larder/core/error.h"

namespace larder {
namespace {

thread_local int t_parallel_depth = 0;  // bodies of parallel_for running on this thread

}  // namespace

bool in_parallel_for() noexcept {
  return t_parallel_depth > 0;
}

void parallel_for(std::int64_t n, std::int64_t grain,
                  const std::function<void(std::int64_t, std::int64_t)>& body) {
  if (n <= 0) return;
  grain = std::max<std::int64_t>(grain, 1);
  if (n <= grain) {  // not worth a task
    body(0, n);
    return;
  }
  tbb::parallel_for(tbb::blocked_range<std::int64_t>(0, n, static_cast<std::size_t>(grain)),
                    [&](const tbb::blocked_range<std::int64_t>& r) {
                      struct Depth {
                        Depth() { ++t_parallel_depth; }
                        ~Depth() { --t_parallel_depth; }
                      } depth;
                      body(r.begin(), r.end());
                    });
}

int max_concurrency() {
  return static_cast<int>(
      tbb::global_control::active_value(tbb::global_control::max_allowed_parallelism));
}

// Built in place: a moved global_control deregisters its limit when the
// moved-from temporary dies, silently lifting the cap.
struct ConcurrencyLimit::Impl {
  explicit Impl(std::size_t threads)
      : control(tbb::global_control::max_allowed_parallelism, threads) {}
  tbb::global_control control;
};

ConcurrencyLimit::ConcurrencyLimit(int threads) {
  if (threads < 1) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("thread count must be at least 1, got {}", threads));
  }
  impl_ = std::make_unique<Impl>(static_cast<std::size_t>(threads));
}

ConcurrencyLimit::~ConcurrencyLimit() = default;

}  // namespace larder
