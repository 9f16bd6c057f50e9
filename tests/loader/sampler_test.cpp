#include "larder/loader/sampler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <set>

#include "error_of.h"

namespace larder::loader {
namespace {

using larder::testing::error_of;

// Whether `rows` holds each of `expected` exactly once (any order).
bool is_permutation_of(std::vector<std::int64_t> rows, std::vector<std::int64_t> expected) {
  std::sort(rows.begin(), rows.end());
  std::sort(expected.begin(), expected.end());
  return rows == expected;
}

std::vector<std::int64_t> iota(std::int64_t n) {
  std::vector<std::int64_t> v(static_cast<std::size_t>(n));
  std::iota(v.begin(), v.end(), std::int64_t{0});
  return v;
}

// A block order's `local` indexes each window's rows as stored: scattering
// rows[p] to local[p] fills every slot once, in ascending order.
void expect_windows_indexed(const EpochOrder& order) {
  ASSERT_EQ(order.local.size(), order.rows.size());
  for (std::size_t w = 0; w < order.windows.size(); ++w) {
    const auto begin = static_cast<std::size_t>(order.windows[w]);
    const std::size_t end = w + 1 < order.windows.size()
                                ? static_cast<std::size_t>(order.windows[w + 1])
                                : order.rows.size();
    std::vector<std::int64_t> stored(end - begin, -1);
    for (std::size_t p = begin; p < end; ++p) {
      const std::int64_t l = order.local[p];
      ASSERT_GE(l, 0);
      ASSERT_LT(l, static_cast<std::int64_t>(stored.size()));
      ASSERT_EQ(stored[static_cast<std::size_t>(l)], -1) << "slot " << l << " twice";
      stored[static_cast<std::size_t>(l)] = order.rows[p];
    }
    ASSERT_TRUE(std::is_sorted(stored.begin(), stored.end()));
  }
}

// Every row exactly once per epoch, in linear time.
void expect_each_once(const std::vector<std::int64_t>& rows, std::int64_t n) {
  ASSERT_EQ(static_cast<std::int64_t>(rows.size()), n);
  std::vector<char> seen(static_cast<std::size_t>(n), 0);
  for (const std::int64_t r : rows) {
    ASSERT_GE(r, 0);
    ASSERT_LT(r, n);
    ASSERT_EQ(seen[static_cast<std::size_t>(r)]++, 0) << "row " << r << " twice";
  }
}

TEST(SamplerTest, EveryShuffleIsAPermutationForSizesOneToAThousand) {
  for (const Shuffle shuffle : {Shuffle::none, Shuffle::full, Shuffle::block}) {
    for (std::int64_t n = 1; n <= 1000; ++n) {
      const Sampler s =
          Sampler::over(n, {.shuffle = shuffle, .seed = 7, .block_size = 7, .window = 3});
      for (const std::uint64_t epoch : {0U, 1U}) {
        const EpochOrder order = s.epoch(epoch);
        expect_each_once(order.rows, n);
        if (shuffle == Shuffle::block) expect_windows_indexed(order);
        if (::testing::Test::HasFailure()) return;
      }
    }
  }
}

TEST(SamplerTest, LargeSizesArePermutations) {
  for (const std::int64_t n : {65'537, 1'000'000}) {
    for (const Shuffle shuffle : {Shuffle::none, Shuffle::full, Shuffle::block}) {
      const Sampler s = Sampler::over(n, {.shuffle = shuffle, .seed = 3, .block_size = 4096});
      expect_each_once(s.epoch(5).rows, n);
    }
  }
}

TEST(SamplerTest, SequentialIsAscending) {
  const Sampler s = Sampler::over(10, {});
  EXPECT_EQ(s.epoch(0).rows, iota(10));
  EXPECT_EQ(s.epoch(9).rows, iota(10));
}

TEST(SamplerTest, ShufflesAreReproduciblePerSeedAndEpoch) {
  for (const Shuffle shuffle : {Shuffle::full, Shuffle::block}) {
    const SamplerOptions options{.shuffle = shuffle, .seed = 42, .block_size = 16, .window = 4};
    const Sampler a = Sampler::over(10'000, options);
    const Sampler b = Sampler::over(10'000, options);
    EXPECT_EQ(a.epoch(3).rows, b.epoch(3).rows);
    EXPECT_NE(a.epoch(3).rows, a.epoch(4).rows) << "epochs differ";
    SamplerOptions other = options;
    other.seed = 43;
    EXPECT_NE(a.epoch(3).rows, Sampler::over(10'000, other).epoch(3).rows) << "seeds differ";
    EXPECT_NE(a.epoch(0).rows, iota(10'000));
  }
}

TEST(SamplerTest, FullShuffleIsTheSameOnEveryPlatform) {
  // xoshiro256** seeded by splitmix64 and Fisher–Yates with Lemire's exact
  // bounded draws are integer arithmetic: this order must never change, or
  // saved seeds mean nothing.
  EXPECT_EQ(permutation(10, 0, 0), (std::vector<std::int64_t>{0, 5, 1, 9, 7, 6, 8, 4, 3, 2}));
}

TEST(SamplerTest, FullShuffleSpreadsEveryRowOverPositions) {
  // Each row's mean position over many epochs is near the middle.
  const std::int64_t n = 50;
  std::vector<double> mean(n, 0);
  const int epochs = 4000;
  const Sampler s = Sampler::over(n, {.shuffle = Shuffle::full, .seed = 1});
  for (int e = 0; e < epochs; ++e) {
    const auto rows = s.epoch(static_cast<std::uint64_t>(e)).rows;
    for (std::int64_t p = 0; p < n; ++p)
      mean[static_cast<std::size_t>(rows[static_cast<std::size_t>(p)])] +=
          static_cast<double>(p) / epochs;
  }
  for (const double m : mean)
    EXPECT_NEAR(m, (n - 1) / 2.0, 1.5);
}

TEST(SamplerTest, BlockShuffleWindowsHoldAtMostWindowBlocks) {
  const std::int64_t n = 100'003;
  const std::int64_t block = 1000;
  const std::int64_t window = 5;
  const Sampler s = Sampler::over(
      n, {.shuffle = Shuffle::block, .seed = 9, .block_size = block, .window = window});
  const EpochOrder order = s.epoch(2);
  expect_each_once(order.rows, n);
  expect_windows_indexed(order);
  ASSERT_EQ(order.windows.size(), static_cast<std::size_t>((n / block + 1 + window - 1) / window));
  EXPECT_EQ(order.windows.front(), 0);
  std::set<std::int64_t> all_blocks;
  for (std::size_t w = 0; w < order.windows.size(); ++w) {
    const std::int64_t end = w + 1 < order.windows.size() ? order.windows[w + 1] : n;
    std::set<std::int64_t> blocks;
    for (std::int64_t p = order.windows[w]; p < end; ++p)
      blocks.insert(order.rows[static_cast<std::size_t>(p)] / block);
    EXPECT_LE(static_cast<std::int64_t>(blocks.size()), window);
    for (const std::int64_t b : blocks)
      EXPECT_TRUE(all_blocks.insert(b).second) << "block " << b << " in two windows";
  }
  // The order of blocks is shuffled, not ascending.
  std::vector<std::int64_t> first_blocks;
  for (const std::int64_t start : order.windows)
    first_blocks.push_back(order.rows[static_cast<std::size_t>(start)] / block);
  EXPECT_FALSE(std::is_sorted(first_blocks.begin(), first_blocks.end()));
}

TEST(SamplerTest, SubsetsArePermutedAndKeepTheirOrderUnshuffled) {
  std::vector<std::int64_t> ids;
  for (std::int64_t i = 0; i < 5000; i += 3)
    ids.push_back(i);
  EXPECT_EQ(Sampler::over_subset(ids, {}).epoch(0).rows, ids);
  for (const Shuffle shuffle : {Shuffle::full, Shuffle::block}) {
    const Sampler s = Sampler::over_subset(ids, {.shuffle = shuffle, .seed = 5, .block_size = 64});
    EXPECT_EQ(s.population(), static_cast<std::int64_t>(ids.size()));
    const auto rows = s.epoch(1).rows;
    EXPECT_TRUE(is_permutation_of(rows, ids));
    EXPECT_NE(rows, ids);
  }
}

TEST(SamplerTest, CoverShardsAreDisjointCoveringAndDifferByAtMostOne) {
  for (const Shuffle shuffle : {Shuffle::none, Shuffle::full, Shuffle::block}) {
    for (std::int64_t n = 0; n <= 200; ++n) {
      for (std::int64_t world = 1; world <= 5; ++world) {
        std::vector<std::int64_t> all;
        std::int64_t shortest = n;
        std::int64_t longest = 0;
        for (std::int64_t rank = 0; rank < world; ++rank) {
          const Sampler s = Sampler::over(n, {.shuffle = shuffle,
                                              .seed = 11,
                                              .block_size = 4,
                                              .window = 2,
                                              .rank = rank,
                                              .world_size = world});
          const EpochOrder order = s.epoch(3);
          const auto& rows = order.rows;
          ASSERT_EQ(static_cast<std::int64_t>(rows.size()), s.size());
          if (shuffle == Shuffle::block) expect_windows_indexed(order);
          shortest = std::min<std::int64_t>(shortest, s.size());
          longest = std::max<std::int64_t>(longest, s.size());
          all.insert(all.end(), rows.begin(), rows.end());
        }
        expect_each_once(all, n);
        EXPECT_LE(longest - shortest, 1);
        if (n % world == 0) {
          EXPECT_EQ(longest, shortest);
        }
        if (::testing::Test::HasFailure()) return;
      }
    }
  }
}

TEST(SamplerTest, EqualShardsAreDisjointAndEqualAndDropOnlyTheSurplus) {
  for (const Shuffle shuffle : {Shuffle::none, Shuffle::full, Shuffle::block}) {
    for (std::int64_t n = 0; n <= 200; ++n) {
      for (std::int64_t world = 1; world <= 5; ++world) {
        std::set<std::int64_t> seen;
        for (std::int64_t rank = 0; rank < world; ++rank) {
          const Sampler s = Sampler::over(n, {.shuffle = shuffle,
                                              .seed = 11,
                                              .block_size = 4,
                                              .window = 2,
                                              .rank = rank,
                                              .world_size = world,
                                              .shard_rule = ShardRule::equal});
          const auto rows = s.epoch(3).rows;
          ASSERT_EQ(static_cast<std::int64_t>(rows.size()), n / world);
          for (const std::int64_t r : rows) {
            ASSERT_TRUE(seen.insert(r).second) << "row " << r << " in two shards";
            ASSERT_LT(r, n);
          }
        }
        EXPECT_EQ(static_cast<std::int64_t>(seen.size()), n - n % world);
        if (::testing::Test::HasFailure()) return;
      }
    }
  }
}

TEST(SamplerTest, ShardsOfAMillionRowsCoverEveryRow) {
  const std::int64_t n = 1'000'000;
  std::vector<std::int64_t> all;
  for (std::int64_t rank = 0; rank < 3; ++rank) {
    const auto rows =
        Sampler::over(n, {.shuffle = Shuffle::full, .seed = 2, .rank = rank, .world_size = 3})
            .epoch(0)
            .rows;
    all.insert(all.end(), rows.begin(), rows.end());
  }
  expect_each_once(all, n);
}

TEST(SamplerTest, BadOptionsAreRefused) {
  std::string why;
  EXPECT_EQ(error_of([] { Sampler::over(10, {.rank = 2, .world_size = 2}); }, &why),
            ErrorCode::invalid_argument);
  EXPECT_NE(why.find("rank 2"), std::string::npos) << why;
  EXPECT_EQ(error_of([] { Sampler::over(10, {.rank = -1, .world_size = 2}); }),
            ErrorCode::invalid_argument);
  EXPECT_EQ(error_of([] { Sampler::over(10, {.world_size = 0}); }), ErrorCode::invalid_argument);
  EXPECT_EQ(error_of([] { Sampler::over(10, {.block_size = 0}); }), ErrorCode::invalid_argument);
  EXPECT_EQ(error_of([] { Sampler::over(10, {.window = 0}); }), ErrorCode::invalid_argument);
  EXPECT_EQ(error_of([] { Sampler::over(-1, {}); }), ErrorCode::invalid_argument);
  EXPECT_EQ(error_of([] { Sampler::over_subset({1, -2}, {}); }), ErrorCode::invalid_argument);
  EXPECT_EQ(error_of([] { shuffle_from_string("random"); }), ErrorCode::invalid_argument);
  EXPECT_EQ(shuffle_from_string("block"), Shuffle::block);
}

}  // namespace
}  // namespace larder::loader
