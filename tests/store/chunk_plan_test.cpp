// ChunkPlan: which chunks a selection touches and the runs of elements that
// move between each chunk and the caller's array, merged as far as both
// layouts allow.
#include "../../src/store/chunk_plan.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "larder/core/array.h"

namespace larder::store {
namespace {

struct Visited {
  std::vector<std::int64_t> coords;
  std::vector<ChunkPlan::Run> runs;
};

std::vector<Visited> visit_all(const ChunkPlan& plan) {
  std::vector<Visited> out;
  plan.for_each_chunk(
      [&](std::span<const std::int64_t> coords, std::span<const ChunkPlan::Group* const> groups) {
        Visited v{{coords.begin(), coords.end()}, {}};
        plan.for_each_run(groups, [&](const ChunkPlan::Run& r) { v.runs.push_back(r); });
        out.push_back(std::move(v));
      });
  return out;
}

TEST(ChunkPlan, WholeRowsOfAChunkAreOneRun) {
  const Shape shape{10, 4};
  const std::vector<std::int64_t> chunks{4, 4};
  const ChunkPlan plan(Selection{AxisSelection::slice(1, 7)}.resolve(shape), shape, chunks);
  const auto visited = visit_all(plan);
  ASSERT_EQ(visited.size(), 2u);
  // Rows 1-3 of chunk 0 and rows 0-2 of chunk 1, each one memcpy.
  EXPECT_EQ(visited[0].runs, (std::vector<ChunkPlan::Run>{{4, 0, 12}}));
  EXPECT_EQ(visited[1].runs, (std::vector<ChunkPlan::Run>{{0, 12, 12}}));
}

TEST(ChunkPlan, AChunkLandingWholeOnTheArrayIsOneRun) {
  const Shape shape{8, 3, 5};
  const std::vector<std::int64_t> chunks{2, 3, 5};
  const ChunkPlan plan(Selection{AxisSelection::slice(2, 6)}.resolve(shape), shape, chunks);
  std::vector<ChunkPlan::Run> whole;
  plan.for_each_chunk(
      [&](std::span<const std::int64_t>, std::span<const ChunkPlan::Group* const> groups) {
        const auto run = plan.whole_chunk(groups);
        ASSERT_TRUE(run);
        whole.push_back(*run);
      });
  EXPECT_EQ(whole, (std::vector<ChunkPlan::Run>{{0, 0, 30}, {0, 30, 30}}));
}

TEST(ChunkPlan, ChunksSplitAlongInnerAxesAreRunsPerRow) {
  const Shape shape{4, 6};
  const std::vector<std::int64_t> chunks{2, 3};
  const ChunkPlan plan(Selection().resolve(shape), shape, chunks);
  const auto visited = visit_all(plan);
  ASSERT_EQ(visited.size(), 4u);
  EXPECT_EQ(visited[1].coords, (std::vector<std::int64_t>{0, 1}));
  // Chunk (0, 1): its two rows are apart in the array.
  EXPECT_EQ(visited[1].runs, (std::vector<ChunkPlan::Run>{{0, 3, 3}, {3, 9, 3}}));
  plan.for_each_chunk(
      [&](std::span<const std::int64_t>, std::span<const ChunkPlan::Group* const> groups) {
        EXPECT_FALSE(plan.whole_chunk(groups));
      });
}

TEST(ChunkPlan, GathersWithRepeatsAndReversedSlicesAreNotMerged) {
  const Shape shape{10, 2};
  const std::vector<std::int64_t> chunks{5, 2};
  const ChunkPlan gather(Selection{AxisSelection::indices({7, 1, 2, 2, 3, 8})}.resolve(shape),
                         shape, chunks);
  const auto g = visit_all(gather);
  ASSERT_EQ(g.size(), 2u);
  // Rows 1, 2 are consecutive on both sides; the repeated 2 and then 3 are
  // consecutive in the array only from the repeat on.
  EXPECT_EQ(g[0].runs, (std::vector<ChunkPlan::Run>{{2, 2, 4}, {4, 6, 4}}));
  EXPECT_EQ(g[1].runs, (std::vector<ChunkPlan::Run>{{4, 0, 2}, {6, 10, 2}}));
  const ChunkPlan reversed(Selection{AxisSelection::slice(4, std::nullopt, -1)}.resolve(shape),
                           shape, chunks);
  const auto r = visit_all(reversed);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].runs.size(), 5u);
}

TEST(ChunkPlan, ScalarsAndDroppedAxesCopyOneElement) {
  const Shape scalar{};
  const ChunkPlan plan(Selection().resolve(scalar), scalar, {});
  EXPECT_EQ(visit_all(plan)[0].runs, (std::vector<ChunkPlan::Run>{{0, 0, 1}}));
  const Shape shape{6, 4};
  const std::vector<std::int64_t> chunks{3, 4};
  const ChunkPlan row(Selection{AxisSelection::index(4)}.resolve(shape), shape, chunks);
  const auto visited = visit_all(row);
  ASSERT_EQ(visited.size(), 1u);
  EXPECT_EQ(visited[0].runs, (std::vector<ChunkPlan::Run>{{4, 0, 4}}));
}

// copy() through the runs agrees with take() for random selections, both ways.
TEST(ChunkPlan, CopyMatchesTakeForRandomSelections) {
  std::mt19937_64 rng(3);
  const Shape shape{9, 7, 5};
  Array data = Array::empty(DType::int32(), shape);
  auto values = data.values<std::int32_t>();
  for (std::size_t i = 0; i < values.size(); ++i)
    values[i] = static_cast<std::int32_t>(i);
  for (int trial = 0; trial < 300; ++trial) {
    std::vector<std::int64_t> chunks;
    std::vector<AxisSelection> axes;
    for (std::size_t a = 0; a < shape.rank(); ++a) {
      chunks.push_back(static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(shape[a])) + 1);
      switch (rng() % 4) {
        case 0:
          axes.push_back(AxisSelection::all());
          break;
        case 1:
          axes.push_back(AxisSelection::index(
              static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(shape[a]))));
          break;
        case 2: {
          const auto start =
              static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(shape[a]));
          axes.push_back(
              AxisSelection::slice(start, std::nullopt, static_cast<std::int64_t>(rng() % 2) + 1));
          break;
        }
        default: {
          std::vector<std::int64_t> list(rng() % 8);
          for (auto& i : list)
            i = static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(shape[a]));
          axes.push_back(AxisSelection::indices(list));
        }
      }
    }
    const Selection sel(axes);
    const auto resolved = sel.resolve(shape);
    const Array expected = take(data, sel);
    Array got = Array::zeros(DType::int32(), expected.shape());
    const ChunkPlan plan(resolved, shape, chunks);
    std::int64_t chunk_elements = 1;
    for (auto c : chunks)
      chunk_elements *= c;
    plan.for_each_chunk(
        [&](std::span<const std::int64_t> coords, std::span<const ChunkPlan::Group* const> groups) {
          // The chunk as a decoder would give it: C order, out-of-bounds zero.
          std::vector<std::int32_t> chunk(static_cast<std::size_t>(chunk_elements), 0);
          std::vector<std::int64_t> index(3);
          for (std::int64_t e = 0; e < chunk_elements; ++e) {
            std::int64_t rest = e;
            bool inside = true;
            std::int64_t source = 0;
            for (std::size_t a = 3; a-- > 0;) {
              index[a] = coords[a] * chunks[a] + rest % chunks[a];
              rest /= chunks[a];
              inside = inside && index[a] < shape[a];
            }
            if (!inside) continue;
            source = (index[0] * shape[1] + index[1]) * shape[2] + index[2];
            chunk[static_cast<std::size_t>(e)] = values[static_cast<std::size_t>(source)];
          }
          plan.copy(groups, reinterpret_cast<std::byte*>(chunk.data()), got.data(),
                    sizeof(std::int32_t), false);
          // And back: what the chunk would be written with matches it.
          std::vector<std::int32_t> written(chunk.size(), -1);
          plan.copy(groups, reinterpret_cast<std::byte*>(written.data()), got.data(),
                    sizeof(std::int32_t), true);
          for (std::size_t e = 0; e < chunk.size(); ++e) {
            if (written[e] != -1) {
              ASSERT_EQ(written[e], chunk[e]) << sel.to_string();
            }
          }
        });
    ASSERT_TRUE(std::equal(got.bytes().begin(), got.bytes().end(), expected.bytes().begin()))
        << sel.to_string() << " chunks " << chunks[0] << "," << chunks[1] << "," << chunks[2];
  }
}

}  // namespace
}  // namespace larder::store
