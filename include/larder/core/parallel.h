// Parallel loops on oneTBB's shared worker pool — the only threads larder
// starts for compute. parallel_for splits [0, n) into ranges of about
// `grain` items and runs `body(begin, end)` on them concurrently; an
// exception thrown by a body is rethrown in the caller after the loop stops.
// ConcurrencyLimit caps the pool for its lifetime (e.g. `--threads 1`).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

namespace larder {

void parallel_for(std::int64_t n, std::int64_t grain,
                  const std::function<void(std::int64_t begin, std::int64_t end)>& body);

// Threads a parallel_for may use right now.
int max_concurrency();

// Whether this thread is running a body of a parallel_for that was split
// across the pool: work done here should not start threads of its own.
bool in_parallel_for() noexcept;

class ConcurrencyLimit {
 public:
  explicit ConcurrencyLimit(int threads);  // threads >= 1
  ~ConcurrencyLimit();
  ConcurrencyLimit(const ConcurrencyLimit&) = delete;
  ConcurrencyLimit& operator=(const ConcurrencyLimit&) = delete;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace larder
