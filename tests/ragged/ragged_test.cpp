#include "larder/ragged/ragged.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <random>

#include "array_helpers.h"
#include "error_of.h"
#include "larder/core/error.h"
#include "larder/store/store.h"
#include "store/drivers.h"
#include "store/temp_dir.h"

namespace larder::ragged {
namespace {

using larder::testing::array_of;
using larder::testing::values_of;

using larder::testing::error_of;

using larder::testing::Driver;

std::string driver_name(const ::testing::TestParamInfo<Driver>& info) {
  return info.param.name;
}

class RaggedTest : public ::testing::TestWithParam<Driver> {
 protected:
  void SetUp() override { open("w"); }

  void open(std::string_view mode) {
    store_.reset();
    store_ = store::Store::open(GetParam().where(dir_.path()), mode, GetParam().options);
  }
  store::Group& root() { return *store_->root(); }
  codec::CodecSpec codec() const {
    return GetParam().can.compression ? codec::CodecSpec{.id = "blosc-lz4", .level = 5}
                                      : codec::CodecSpec{};
  }

  testing::TempDir dir_;
  std::unique_ptr<store::Store> store_;
};

// Records 0..n-1, record i holding i items i*100, i*100+1, ...
std::unique_ptr<Ragged> counted(store::Group& root, std::int64_t n, const RaggedOptions& options,
                                const ReadOptions& read = {}) {
  auto r = Ragged::create(root, "events/jets", options, read);
  std::vector<float> values;
  std::vector<std::int64_t> lengths;
  for (std::int64_t i = 0; i < n; ++i) {
    lengths.push_back(i % 7);
    for (std::int64_t k = 0; k < i % 7; ++k)
      values.push_back(static_cast<float>(i * 100 + k));
  }
  r->extend(array_of(values, Shape{static_cast<std::int64_t>(values.size())}), lengths);
  return r;
}

std::vector<float> expected_record(std::int64_t i) {
  std::vector<float> out;
  for (std::int64_t k = 0; k < i % 7; ++k)
    out.push_back(static_cast<float>(i * 100 + k));
  return out;
}

TEST_P(RaggedTest, JaggedRecordsAppendReadGatherAndPad) {
  auto r = Ragged::create(root(), "jets", {.dtype = DType::float32(), .codec = codec()});
  EXPECT_EQ(r->size(), 0);
  EXPECT_EQ(r->format(), "larder");
  r->append(array_of<float>({1, 2, 3}, Shape{3}));
  r->append(Array::empty(DType::float32(), Shape{0}));  // an empty record
  r->extend(array_of<float>({4, 5, 6, 7, 8}, Shape{5}), std::vector<std::int64_t>{1, 4});
  ASSERT_EQ(r->size(), 4);
  EXPECT_EQ(r->lengths(), (std::vector<std::int64_t>{3, 0, 1, 4}));
  EXPECT_EQ(r->lengths(1, 3), (std::vector<std::int64_t>{0, 1}));

  EXPECT_EQ(values_of<float>(r->record(0)), (std::vector<float>{1, 2, 3}));
  EXPECT_EQ(r->record(1).shape(), Shape{0});
  EXPECT_EQ(values_of<float>(r->record(-1)), (std::vector<float>{5, 6, 7, 8}));

  const Records all = r->read(0, 4);
  EXPECT_EQ(all.offsets, (std::vector<std::int64_t>{0, 3, 3, 4, 8}));
  EXPECT_EQ(values_of<float>(all.values), (std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_EQ(values_of<float>(all[2]), (std::vector<float>{4}));

  const std::vector<std::int64_t> rows{3, 0, 3, -2};
  const Records some = r->gather(rows);
  ASSERT_EQ(some.size(), 4);
  EXPECT_EQ(values_of<float>(some[0]), (std::vector<float>{5, 6, 7, 8}));
  EXPECT_EQ(values_of<float>(some[1]), (std::vector<float>{1, 2, 3}));
  EXPECT_EQ(values_of<float>(some[2]), (std::vector<float>{5, 6, 7, 8}));
  EXPECT_EQ(values_of<float>(some[3]), (std::vector<float>{4}));

  const std::vector<std::int64_t> pad_rows{0, 1, 3};
  const Array padded = r->padded(pad_rows, 2, std::nan(""));
  ASSERT_EQ(padded.shape(), (Shape{3, 2}));
  const std::vector<float> p = values_of<float>(padded);
  EXPECT_EQ(p[0], 1);
  EXPECT_EQ(p[1], 2);  // clipped to 2
  EXPECT_TRUE(std::isnan(p[2]));
  EXPECT_TRUE(std::isnan(p[3]));
  EXPECT_EQ(p[4], 5);
  EXPECT_EQ(p[5], 6);
}

TEST_P(RaggedTest, ItemsWithAnInnerShape) {
  auto r = Ragged::create(root(), "hits", {.dtype = DType::int32(), .inner_shape = Shape{3}});
  r->append(array_of<std::int32_t>({1, 2, 3, 4, 5, 6}, Shape{2, 3}));
  r->append(array_of<std::int32_t>({7, 8, 9}, Shape{1, 3}));
  EXPECT_EQ(r->inner_shape(), Shape{3});
  EXPECT_EQ(r->record(0).shape(), (Shape{2, 3}));
  const std::vector<std::int64_t> rows{1, 0};
  const Records got = r->gather(rows);
  EXPECT_EQ(got.values.shape(), (Shape{3, 3}));
  EXPECT_EQ(values_of<std::int32_t>(got[0]), (std::vector<std::int32_t>{7, 8, 9}));
  const Array padded = r->padded(rows, 3, -1);
  EXPECT_EQ(padded.shape(), (Shape{2, 3, 3}));
  EXPECT_EQ(values_of<std::int32_t>(padded),
            (std::vector<std::int32_t>{7, 8, 9, -1, -1, -1, -1, -1, -1,  //
                                       1, 2, 3, 4, 5, 6, -1, -1, -1}));
  // A record of the wrong inner shape is refused.
  EXPECT_EQ(error_of([&] {
              r->append(array_of<std::int32_t>({1, 2}, Shape{1, 2}));
            }),
            ErrorCode::invalid_argument);
  EXPECT_EQ(r->size(), 2);
}

TEST_P(RaggedTest, ShapedRecordsKeepEachShape) {
  auto r = Ragged::create(root(), "images", {.dtype = DType::uint8(), .shaped = true});
  std::vector<std::uint8_t> a(6), b(12);
  std::iota(a.begin(), a.end(), 0);
  std::iota(b.begin(), b.end(), 100);
  r->append(array_of(a, Shape{2, 3}));
  r->append(array_of(b, Shape{4, 3}));
  r->append(array_of(std::vector<std::uint8_t>{}, Shape{0, 5}));
  const std::vector<Shape> shapes{Shape{1, 1}, Shape{2, 1}};
  r->extend(array_of<std::uint8_t>({9, 8, 7}, Shape{3}), shapes);
  ASSERT_EQ(r->size(), 5);
  EXPECT_TRUE(r->shaped());
  EXPECT_EQ(r->lengths(), (std::vector<std::int64_t>{6, 12, 0, 1, 2}));
  EXPECT_EQ(r->record(1).shape(), (Shape{4, 3}));
  EXPECT_EQ(values_of<std::uint8_t>(r->record(1)), b);
  EXPECT_EQ(r->record(2).shape(), (Shape{0, 5}));
  const std::vector<std::int64_t> rows{4, 0};
  const Records got = r->gather(rows);
  EXPECT_EQ(got[0].shape(), (Shape{2, 1}));
  EXPECT_EQ(values_of<std::uint8_t>(got[0]), (std::vector<std::uint8_t>{8, 7}));
  EXPECT_EQ(got[1].shape(), (Shape{2, 3}));
  EXPECT_EQ(values_of<std::uint8_t>(got[1]), a);

  EXPECT_EQ(error_of([&] { r->append(array_of<std::uint8_t>({1}, Shape{1})); }),
            ErrorCode::invalid_argument);  // rank 1 for rank 2 records
  EXPECT_EQ(error_of([&] { r->padded(rows, 4); }), ErrorCode::invalid_argument);
  EXPECT_EQ(r->size(), 5);
}

TEST_P(RaggedTest, RecordsSurviveReopening) {
  if (!GetParam().can.persistent) GTEST_SKIP() << "the store lives in memory";
  counted(root(), 1000, {.dtype = DType::float32(), .codec = codec(), .chunk_items = 50});
  open("r");
  auto r = Ragged::open(root(), "events/jets");
  ASSERT_EQ(r->size(), 1000);
  EXPECT_EQ(r->dtype(), DType::float32());
  EXPECT_EQ(r->codec()->id, codec().id);
  for (const std::int64_t i : {0, 1, 6, 500, 999})
    EXPECT_EQ(values_of<float>(r->record(i)), expected_record(i)) << i;
  // A read-only store refuses the append the way it refuses any write.
  EXPECT_EQ(error_of([&] { r->append(array_of<float>({1}, Shape{1})); }),
            error_of([&] { root().create_group("x"); }));
  EXPECT_EQ(r->size(), 1000);
  open("a");
  auto w = Ragged::open(root(), "events/jets");
  w->append(array_of<float>({1, 2}, Shape{2}));
  EXPECT_EQ(w->size(), 1001);
  EXPECT_EQ(values_of<float>(w->record(1000)), (std::vector<float>{1, 2}));
}

// Both ways of finding offsets (all kept in memory; read per access) give
// the same records, for ranges and for gathers in any order.
TEST_P(RaggedTest, CachedAndUncachedOffsetsAgree) {
  const std::int64_t n = 5000;
  counted(root(), n, {.dtype = DType::float32(), .codec = codec(), .chunk_items = 64});
  auto cached = Ragged::open(root(), "events/jets");
  auto uncached = Ragged::open(root(), "events/jets", {.cached_offsets = 10});
  std::mt19937_64 rng(7);
  std::vector<std::int64_t> rows(300);
  for (auto& row : rows)
    row = static_cast<std::int64_t>(rng() % n);
  for (auto* r : {cached.get(), uncached.get()}) {
    const Records got = r->gather(rows);
    for (std::size_t i = 0; i < rows.size(); ++i)
      ASSERT_EQ(values_of<float>(got[static_cast<std::int64_t>(i)]), expected_record(rows[i]));
    const Records range = r->read(1234, 1300);
    for (std::int64_t i = 0; i < range.size(); ++i)
      ASSERT_EQ(values_of<float>(range[i]), expected_record(1234 + i));
    EXPECT_EQ(r->lengths(10, 17), (std::vector<std::int64_t>{3, 4, 5, 6, 0, 1, 2}));
  }
  // Appends through the uncached one are read back by both paths.
  uncached->append(array_of<float>({42}, Shape{1}));
  EXPECT_EQ(values_of<float>(uncached->record(n)), (std::vector<float>{42}));
}

TEST_P(RaggedTest, LongRecordsAreReadASliceEach) {
  auto r = Ragged::create(root(), "waves", {.dtype = DType::float64(), .codec = codec()});
  std::vector<double> values(3 * 10000);
  std::iota(values.begin(), values.end(), 0.0);
  r->extend(array_of(values, Shape{30000}), std::vector<std::int64_t>{10000, 10000, 10000});
  const std::vector<std::int64_t> rows{2, 0};
  const Records got = r->gather(rows);
  EXPECT_EQ(values_of<double>(got[0]).front(), 20000.0);
  EXPECT_EQ(values_of<double>(got[1]).back(), 9999.0);
}

TEST_P(RaggedTest, BadInputChangesNothing) {
  auto r = Ragged::create(root(), "jets", {.dtype = DType::float32()});
  r->append(array_of<float>({1, 2}, Shape{2}));
  const auto unchanged = [&] {
    EXPECT_EQ(r->size(), 1);
    EXPECT_EQ(values_of<float>(r->record(0)), (std::vector<float>{1, 2}));
  };
  EXPECT_EQ(error_of([&] { r->append(array_of<double>({1}, Shape{1})); }),
            ErrorCode::type_mismatch);
  unchanged();
  EXPECT_EQ(error_of([&] {
              r->extend(array_of<float>({1, 2, 3}, Shape{3}), std::vector<std::int64_t>{1, 1});
            }),
            ErrorCode::invalid_argument);
  unchanged();
  EXPECT_EQ(error_of([&] {
              r->extend(array_of<float>({1}, Shape{1}), std::vector<std::int64_t>{2, -1});
            }),
            ErrorCode::invalid_argument);
  unchanged();
  const std::vector<std::int64_t> past{0, 1};
  std::string why;
  EXPECT_EQ(error_of([&] { r->gather(past); }, &why), ErrorCode::out_of_range);
  EXPECT_NE(why.find("record 1"), std::string::npos) << why;
  EXPECT_EQ(error_of([&] { r->read(0, 2); }), ErrorCode::out_of_range);
  EXPECT_EQ(error_of([&] { Ragged::create(root(), "jets", {}); }), ErrorCode::invalid_argument);
  EXPECT_EQ(
      error_of([&] { Ragged::create(root(), "bad", {.inner_shape = Shape{2}, .shaped = true}); }),
      ErrorCode::invalid_argument);
  EXPECT_FALSE(root().contains("bad"));
  EXPECT_EQ(error_of([&] { Ragged::open(root(), "nothing"); }), ErrorCode::not_found);
  root().create_dataset("dense", {.dtype = DType::int8(), .shape = Shape{3}});
  EXPECT_EQ(error_of([&] { Ragged::open(root(), "dense"); }), ErrorCode::type_mismatch);
  EXPECT_FALSE(Ragged::is_ragged(root(), "dense"));
  EXPECT_TRUE(Ragged::is_ragged(root(), "jets"));
  unchanged();
}

TEST_P(RaggedTest, OffsetsThatDecreaseOrPointPastTheValuesAreCorrupt) {
  counted(root(), 20, {.dtype = DType::float32()});
  auto offsets = root().open_dataset("events/jets/offsets");
  // Past the values: the last offset is checked when the records open.
  const std::int64_t past[] = {1000};
  offsets->write(Selection{AxisSelection::index(20)}, Array::from_values<std::int64_t>(past));
  std::string why;
  EXPECT_EQ(error_of([&] { Ragged::open(root(), "events/jets"); }, &why), ErrorCode::corrupt);
  EXPECT_NE(why.find("1000"), std::string::npos) << why;
  // Decreasing: found when they are read, cached or not.
  const std::int64_t good[] = {57};
  offsets->write(Selection{AxisSelection::index(20)}, Array::from_values<std::int64_t>(good));
  const std::int64_t down[] = {2};
  offsets->write(Selection{AxisSelection::index(10)}, Array::from_values<std::int64_t>(down));
  for (const std::int64_t cached : {std::int64_t{1} << 20, std::int64_t{1}}) {
    auto r = Ragged::open(root(), "events/jets", {.cached_offsets = cached});
    EXPECT_EQ(error_of([&] { r->read(0, 20); }), ErrorCode::corrupt);
    const std::vector<std::int64_t> rows{9};
    EXPECT_EQ(error_of([&] { r->gather(rows); }), ErrorCode::corrupt);
  }
}

// What a crash between an append's two writes leaves — values no offset
// reaches — is invisible to reads and trimmed by the next append.
TEST_P(RaggedTest, ValuesNoOffsetReachesAreTrimmedByTheNextAppend) {
  auto r = counted(root(), 10, {.dtype = DType::float32()});
  root().open_dataset("events/jets/values")->append(array_of<float>({-1, -1, -1}, Shape{3}));
  r = Ragged::open(root(), "events/jets");
  EXPECT_EQ(r->size(), 10);
  EXPECT_EQ(r->read(0, 10).values.shape(),
            Shape{std::int64_t{0 + 1 + 2 + 3 + 4 + 5 + 6 + 0 + 1 + 2}});
  r->append(array_of<float>({5, 6}, Shape{2}));
  EXPECT_EQ(values_of<float>(r->record(10)), (std::vector<float>{5, 6}));
  EXPECT_EQ(root().open_dataset("events/jets/values")->rows(), 24 + 2);
}

INSTANTIATE_TEST_SUITE_P(Drivers, RaggedTest, ::testing::ValuesIn(larder::testing::drivers()),
                         driver_name);

}  // namespace
}  // namespace larder::ragged
