#include "larder/loader/loader.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>

#include "error_of.h"
#include "larder/store/store.h"
#include "store/drivers.h"
#include "store/temp_dir.h"

namespace larder::loader {
namespace {

using larder::testing::Driver;
using larder::testing::error_of;

constexpr std::int64_t kRows = 5000;

std::string driver_name(const ::testing::TestParamInfo<Driver>& info) {
  return info.param.name;
}

// A store with x (rows, 3) float32 = 3 * row + j in chunks of 256 rows, and
// jets: row i holds i % 5 items 10 * i + k.
class LoaderTest : public ::testing::TestWithParam<Driver> {
 protected:
  void SetUp() override {
    store_ = store::Store::open(GetParam().where(dir_.path()), "w", GetParam().options);
    const codec::CodecSpec codec = GetParam().can.compression
                                       ? codec::CodecSpec{.id = "blosc-lz4", .level = 5}
                                       : codec::CodecSpec{};
    x_ = store_->root()->create_dataset(
        "events/x",
        {.dtype = DType::float32(), .shape = Shape{kRows, 3}, .chunks = {256, 3}, .codec = codec});
    std::vector<float> values(static_cast<std::size_t>(kRows * 3));
    std::iota(values.begin(), values.end(), 0.0F);
    x_->write(Selection(), Array::from_values<float>(values).reshaped(Shape{kRows, 3}));
    jets_ = ragged::Ragged::create(*store_->root(), "events/jets",
                                   {.dtype = DType::float32(), .codec = codec});
    std::vector<float> items;
    std::vector<std::int64_t> lengths;
    for (std::int64_t i = 0; i < kRows; ++i) {
      lengths.push_back(i % 5);
      for (std::int64_t k = 0; k < i % 5; ++k)
        items.push_back(static_cast<float>(10 * i + k));
    }
    jets_->extend(Array::from_values<float>(items), lengths);
  }

  std::vector<Column> columns() {
    std::vector<std::int64_t> doubled(static_cast<std::size_t>(kRows));
    for (std::int64_t i = 0; i < kRows; ++i)
      doubled[static_cast<std::size_t>(i)] = 2 * i;
    return {{"x", x_},
            {"jets", jets_},
            {"w", std::make_shared<const Array>(Array::from_values<std::int64_t>(doubled))}};
  }

  testing::TempDir dir_;
  std::unique_ptr<store::Store> store_;
  std::shared_ptr<store::Dataset> x_;
  std::shared_ptr<ragged::Ragged> jets_;
};

// Every batch of one epoch, in order.
std::vector<Batch> epoch_of(Loader& loader) {
  std::vector<Batch> out;
  auto epoch = loader.start();
  while (auto batch = epoch->next())
    out.push_back(std::move(*batch));
  return out;
}

std::vector<std::int64_t> index_of(const std::vector<Batch>& batches) {
  std::vector<std::int64_t> ids;
  for (const Batch& b : batches) {
    const auto v = b.index.values<std::int64_t>();
    ids.insert(ids.end(), v.begin(), v.end());
  }
  return ids;
}

// Checks that each batch's fields hold the rows its index names.
void expect_rows_match(const Batch& batch, std::int64_t width) {
  const auto ids = batch.index.values<std::int64_t>();
  const auto x = batch["x"].values<float>();
  const auto w = batch["w"].values<std::int64_t>();
  const auto jets = batch["jets"].values<float>();
  ASSERT_EQ(batch["x"].shape(), Shape({batch.rows(), 3}));
  ASSERT_EQ(batch["jets"].shape(), Shape({batch.rows(), width}));
  for (std::size_t r = 0; r < ids.size(); ++r) {
    const std::int64_t id = ids[r];
    for (std::size_t j = 0; j < 3; ++j)
      ASSERT_EQ(x[r * 3 + j], static_cast<float>(id * 3 + static_cast<std::int64_t>(j)));
    ASSERT_EQ(w[r], 2 * id);
    for (std::int64_t k = 0; k < width; ++k) {
      const float got = jets[r * static_cast<std::size_t>(width) + static_cast<std::size_t>(k)];
      if (k < id % 5) {
        ASSERT_EQ(got, static_cast<float>(10 * id + k));
      } else {
        ASSERT_TRUE(std::isnan(got)) << "fill at row " << id;
      }
    }
  }
}

TEST_P(LoaderTest, EveryShuffleVisitsEachRowOnceWithItsValues) {
  for (const Shuffle shuffle : {Shuffle::none, Shuffle::full, Shuffle::block}) {
    auto loader = Loader::create(
        columns(),
        {.batch_size = 96,
         .sampler = {.shuffle = shuffle, .seed = 4, .block_size = 0},
         .pad = {{"jets", {.width = 4, .fill = std::numeric_limits<double>::quiet_NaN()}}},
         .threads = 2});
    EXPECT_EQ(loader->size(), (kRows + 95) / 96);
    for (int e = 0; e < 2; ++e) {
      const auto batches = epoch_of(*loader);
      ASSERT_EQ(static_cast<std::int64_t>(batches.size()), loader->size());
      auto ids = index_of(batches);
      if (shuffle == Shuffle::none) {
        EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
      } else {
        EXPECT_FALSE(std::is_sorted(ids.begin(), ids.end()));
      }
      std::sort(ids.begin(), ids.end());
      std::vector<std::int64_t> all(kRows);
      std::iota(all.begin(), all.end(), std::int64_t{0});
      EXPECT_EQ(ids, all) << to_string(shuffle);
      for (const Batch& b : batches)
        expect_rows_match(b, 4);
    }
    EXPECT_EQ(loader->epoch(), 2U);
  }
}

TEST_P(LoaderTest, BatchesDoNotDependOnTheThreadCount) {
  for (const Shuffle shuffle : {Shuffle::full, Shuffle::block}) {
    std::vector<std::vector<Batch>> runs;
    for (const int threads : {1, 2, 4}) {
      auto loader =
          Loader::create(columns(), {.batch_size = 128,
                                     .sampler = {.shuffle = shuffle, .seed = 8, .block_size = 0},
                                     .prefetch = 3,
                                     .threads = threads});
      loader->set_epoch(5);
      runs.push_back(epoch_of(*loader));
    }
    for (std::size_t r = 1; r < runs.size(); ++r) {
      ASSERT_EQ(runs[r].size(), runs[0].size());
      for (std::size_t b = 0; b < runs[0].size(); ++b) {
        const Batch& one = runs[0][b];
        const Batch& other = runs[r][b];
        ASSERT_EQ(one.fields.size(), other.fields.size());
        EXPECT_EQ(other.number, static_cast<std::int64_t>(b));
        EXPECT_TRUE(std::ranges::equal(one.index.bytes(), other.index.bytes()));
        for (std::size_t f = 0; f < one.fields.size(); ++f) {
          EXPECT_EQ(one.fields[f].name, other.fields[f].name);
          EXPECT_TRUE(
              std::ranges::equal(one.fields[f].values.bytes(), other.fields[f].values.bytes()))
              << one.fields[f].name << " of batch " << b;
        }
      }
    }
  }
}

TEST_P(LoaderTest, BatchesGatheredTogetherEqualBatchesReadAlone) {
  // A full shuffle gathers 2048 rows at once and cuts them into batches.
  auto loader =
      Loader::create(columns(), {.batch_size = 100,
                                 .sampler = {.shuffle = Shuffle::full, .seed = 2, .block_size = 0},
                                 .pad = {{"jets", {.width = 4, .fill = 0}}}});
  for (const Batch& batch : epoch_of(*loader)) {
    const Batch alone = loader->read(batch.index.values<std::int64_t>());
    ASSERT_EQ(alone.fields.size(), batch.fields.size());
    for (std::size_t f = 0; f < batch.fields.size(); ++f) {
      EXPECT_EQ(alone.fields[f].values.shape(), batch.fields[f].values.shape());
      EXPECT_TRUE(
          std::ranges::equal(alone.fields[f].values.bytes(), batch.fields[f].values.bytes()));
    }
  }
}

TEST_P(LoaderTest, UnpaddedRaggedColumnsComeAsValuesAndOffsets) {
  auto loader = Loader::create(columns(), {.batch_size = 10});
  auto epoch = loader->start();
  auto batch = epoch->next();
  ASSERT_TRUE(batch);
  const auto offsets = (*batch)["jets_offsets"].values<std::int64_t>();
  EXPECT_EQ(std::vector<std::int64_t>(offsets.begin(), offsets.end()),
            (std::vector<std::int64_t>{0, 0, 1, 3, 6, 10, 10, 11, 13, 16, 20}));
  EXPECT_EQ((*batch)["jets"].values<float>()[1], 20.0F);
  EXPECT_EQ((*batch)["_index"].values<std::int64_t>()[9], 9);
}

TEST_P(LoaderTest, ALongerRecordThanThePadIsAnErrorUnlessClipped) {
  auto strict =
      Loader::create(columns(), {.batch_size = 100, .pad = {{"jets", {.width = 3, .fill = 0}}}});
  auto epoch = strict->start();
  std::string why;
  EXPECT_EQ(error_of([&] { epoch->next(); }, &why), ErrorCode::invalid_argument);
  EXPECT_NE(why.find("record 4 has 4 items"), std::string::npos) << why;
  EXPECT_FALSE(epoch->next()) << "an epoch stops after an error";

  auto clipped = Loader::create(
      columns(), {.batch_size = 100, .pad = {{"jets", {.width = 3, .fill = -1}}}, .clip = true});
  auto batch = clipped->start()->next();
  ASSERT_TRUE(batch);
  const auto jets = (*batch)["jets"].values<float>();
  EXPECT_EQ(jets[4 * 3 + 2], 42.0F);  // record 4 cut to its first three items
  EXPECT_EQ(jets[1 * 3 + 1], -1.0F);  // record 1 filled after its one item
}

TEST_P(LoaderTest, DropLastLeavesOutTheShortBatch) {
  auto loader = Loader::create(columns(), {.batch_size = 300, .drop_last = true});
  EXPECT_EQ(loader->size(), kRows / 300);
  const auto batches = epoch_of(*loader);
  ASSERT_EQ(static_cast<std::int64_t>(batches.size()), kRows / 300);
  for (const Batch& b : batches)
    EXPECT_EQ(b.rows(), 300);
  auto keep = Loader::create(columns(), {.batch_size = 300});
  EXPECT_EQ(epoch_of(*keep).back().rows(), kRows % 300);
}

TEST_P(LoaderTest, ShardedLoadersShareAnEpochBetweenRanks) {
  std::vector<std::int64_t> all;
  for (std::int64_t rank = 0; rank < 3; ++rank) {
    auto loader = Loader::create(columns(), {.batch_size = 64,
                                             .sampler = {.shuffle = Shuffle::block,
                                                         .seed = 1,
                                                         .block_size = 0,
                                                         .rank = rank,
                                                         .world_size = 3},
                                             .threads = 2});
    const auto ids = index_of(epoch_of(*loader));
    EXPECT_EQ(static_cast<std::int64_t>(ids.size()), loader->sampler().size());
    all.insert(all.end(), ids.begin(), ids.end());
  }
  std::sort(all.begin(), all.end());
  std::vector<std::int64_t> expected(kRows);
  std::iota(expected.begin(), expected.end(), std::int64_t{0});
  EXPECT_EQ(all, expected);
}

TEST_P(LoaderTest, StoppingEarlyJoinsTheThreads) {
  for (int i = 0; i < 20; ++i) {
    auto loader =
        Loader::create(columns(), {.batch_size = 16,
                                   .sampler = {.shuffle = Shuffle::block, .block_size = 0},
                                   .prefetch = 4,
                                   .threads = 3});
    auto epoch = loader->start();
    ASSERT_TRUE(epoch->next());
    loader.reset();  // the epoch keeps what it reads alive
    ASSERT_TRUE(epoch->next());
  }
}

// Regression: HDF5 hands out one Dataset object per array, so two loaders
// over one variable read it from two threads at once unless the lock is
// shared between loaders (a crash in the chunk cache).
TEST_P(LoaderTest, TwoLoadersOverOneVariableTakeTurns) {
  const std::vector<Column> one{{"x", store_->root()->open_dataset("events/x")}};
  const std::vector<Column> other{{"x", store_->root()->open_dataset("events/x")}};
  const LoaderOptions options{
      .batch_size = 50, .sampler = {.shuffle = Shuffle::full, .block_size = 0}, .threads = 2};
  auto a = Loader::create(one, options);
  auto b = Loader::create(other, options);
  for (int e = 0; e < 3; ++e) {
    auto ea = a->start();
    auto eb = b->start();
    while (auto batch = ea->next()) {
      auto twin = eb->next();
      ASSERT_TRUE(twin);
      EXPECT_TRUE(
          std::ranges::equal(batch->fields[0].values.bytes(), twin->fields[0].values.bytes()));
      const auto ids = batch->index.values<std::int64_t>();
      EXPECT_EQ((*batch)["x"].values<float>()[0], static_cast<float>(3 * ids[0]));
    }
  }
}

TEST_P(LoaderTest, SplitLoadersPartitionASubset) {
  std::vector<std::int64_t> cut;
  for (std::int64_t i = 0; i < kRows; i += 2)
    cut.push_back(i);
  auto loaders = split_loaders(
      columns(), {0.8, 0.1, 0.1}, 3,
      {.batch_size = 50, .sampler = {.shuffle = Shuffle::full, .block_size = 0}, .subset = cut});
  ASSERT_EQ(loaders.size(), 3U);
  EXPECT_EQ(loaders[0]->sampler().size(), 2000);
  EXPECT_EQ(loaders[1]->sampler().size(), 250);
  EXPECT_EQ(loaders[2]->sampler().size(), 250);
  std::vector<std::int64_t> all;
  for (auto& loader : loaders) {
    const auto ids = index_of(epoch_of(*loader));
    all.insert(all.end(), ids.begin(), ids.end());
  }
  std::sort(all.begin(), all.end());
  EXPECT_EQ(all, cut);
  EXPECT_EQ(split_rows(kRows, cut, {0.8, 0.1, 0.1}, 3), split_rows(kRows, cut, {0.8, 0.1, 0.1}, 3));
  EXPECT_NE(split_rows(kRows, cut, {0.8, 0.1, 0.1}, 3)[1],
            split_rows(kRows, cut, {0.8, 0.1, 0.1}, 4)[1]);
}

TEST_P(LoaderTest, BadInputIsRefused) {
  std::string why;
  EXPECT_EQ(error_of([&] { Loader::create(columns(), {.batch_size = 0}); }),
            ErrorCode::invalid_argument);
  EXPECT_EQ(error_of([&] { Loader::create(columns(), {.sampler = {.rank = 3, .world_size = 3}}); }),
            ErrorCode::invalid_argument);
  auto short_column = columns();
  short_column.push_back(
      {"short", std::make_shared<const Array>(Array::zeros(DType::int8(), Shape{10}))});
  EXPECT_EQ(error_of([&] { Loader::create(short_column, {}); }, &why), ErrorCode::invalid_argument);
  EXPECT_NE(why.find("column 'short' has 10 rows but column 'x' has 5000"), std::string::npos)
      << why;
  EXPECT_EQ(error_of([&] {
              Loader::create(columns(), {.pad = {{"x", {.width = 2}}}});
            }),
            ErrorCode::invalid_argument);
  EXPECT_EQ(error_of([&] {
              Loader::create(columns(), {.pad = {{"nope", {.width = 2}}}});
            }),
            ErrorCode::not_found);
  EXPECT_EQ(
      error_of([&] { Loader::create(columns(), {.subset = std::vector<std::int64_t>{kRows}}); }),
      ErrorCode::out_of_range);
  EXPECT_EQ(error_of([&] {
              split_rows(10, std::nullopt, {0.5, 0.6}, 0);
            }),
            ErrorCode::invalid_argument);
  EXPECT_EQ(error_of([&] {
              split_rows(10, std::nullopt, {1.5, -0.5}, 0);
            }),
            ErrorCode::invalid_argument);
  // Nothing stored changed.
  EXPECT_EQ(x_->read(Selection::parse("4999, 2")).values<float>()[0], 14999.0F);
}

INSTANTIATE_TEST_SUITE_P(Drivers, LoaderTest, ::testing::ValuesIn(testing::drivers()), driver_name);

}  // namespace
}  // namespace larder::loader
