#include "larder/core/parallel.h"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <vector>

#include "larder/core/error.h"
#include "larder/core/progress.h"

namespace larder {
namespace {

TEST(Parallel, CoversEveryIndexExactlyOnce) {
  std::vector<std::atomic<int>> hits(100003);
  parallel_for(static_cast<std::int64_t>(hits.size()), 1000, [&](std::int64_t b, std::int64_t e) {
    for (std::int64_t i = b; i < e; ++i)
      hits[static_cast<std::size_t>(i)]++;
  });
  for (const auto& h : hits)
    ASSERT_EQ(h.load(), 1);
}

TEST(Parallel, EmptyAndTinyRangesRunInline) {
  int calls = 0;
  parallel_for(0, 10, [&](std::int64_t, std::int64_t) { ++calls; });
  EXPECT_EQ(calls, 0);
  parallel_for(5, 10, [&](std::int64_t b, std::int64_t e) {
    ++calls;
    EXPECT_EQ(b, 0);
    EXPECT_EQ(e, 5);
  });
  EXPECT_EQ(calls, 1);
}

TEST(Parallel, ExceptionsReachTheCaller) {
  EXPECT_THROW(parallel_for(1000, 1,
                            [](std::int64_t b, std::int64_t) {
                              if (b == 500) throw Error(ErrorCode::corrupt, "chunk 500");
                            }),
               Error);
}

TEST(Parallel, ConcurrencyLimitCapsThreads) {
  {
    ConcurrencyLimit one(1);
    EXPECT_EQ(max_concurrency(), 1);
  }
  EXPECT_GE(max_concurrency(), 1);
  EXPECT_THROW(ConcurrencyLimit(0), Error);
}

class CountingProgress final : public Progress {
 public:
  void start(std::string_view, std::int64_t t) override { total = t; }
  void advance(std::int64_t n) override { done += n; }
  void finish() override { finished = true; }
  std::int64_t total = 0;
  std::atomic<std::int64_t> done{0};
  bool finished = false;
};

TEST(Progress, ScopeStartsAdvancesAndFinishesEvenOnError) {
  CountingProgress p;
  try {
    ProgressScope scope(p, "work", 10);
    parallel_for(10, 1, [&](std::int64_t b, std::int64_t e) { scope.advance(e - b); });
    throw std::runtime_error("stop");
  } catch (const std::runtime_error&) {
  }
  EXPECT_EQ(p.total, 10);
  EXPECT_EQ(p.done.load(), 10);
  EXPECT_TRUE(p.finished);
  silent_progress().advance(5);  // silent: nothing observable, but must be callable
}

}  // namespace
}  // namespace larder
