#include "larder/store/copy.h"

#include <gtest/gtest.h>

#include <numeric>

#include "larder/core/error.h"
#include "larder/store/store.h"
#include "store/drivers.h"
#include "store/samples.h"
#include "store/temp_dir.h"

namespace larder::store {
namespace {

TEST(Copy, GroupsDatasetsAndAttributesRecompressedInSmallBlocks) {
  testing::TempDir dir;
  auto source = Store::open(dir / "a.h5", "w");
  auto run = source->root()->create_group("run");
  run->attrs().set("seed", 7);
  Array values = Array::empty(DType::int64(), Shape{1000, 3});
  std::iota(values.values<std::int64_t>().begin(), values.values<std::int64_t>().end(), 0);
  auto x = run->create_dataset("sub/x", {.dtype = DType::int64(),
                                         .shape = values.shape(),
                                         .chunks = {100, 3},
                                         .codec = {.id = "blosc-lz4"}});
  x->write(Selection(), values);
  x->attrs().set("unit", "count");
  run->create_dataset("names", {.dtype = DType::vstring(), .shape = Shape{2}})
      ->write_strings(Selection(), {"a", "b"});

  auto target = Store::open(dir / "b.h5", "w");
  copy(*source->root(), "run", *target->root(), "copied",
       {.codec = codec::CodecSpec{.id = "zstd", .level = 1},
        .block_bytes = 1000});  // many small blocks
  auto y = target->root()->open_dataset("copied/sub/x");
  EXPECT_EQ(y->codec()->id, "zstd");
  EXPECT_EQ(y->attrs().get_json("unit"), "count");
  EXPECT_EQ(target->root()->open_group("copied")->attrs().get_json("seed"), 7);
  const Array back = y->read();
  EXPECT_TRUE(std::equal(back.bytes().begin(), back.bytes().end(), values.bytes().begin()));
  EXPECT_EQ(target->root()->open_dataset("copied/names")->read_strings(Selection()),
            (std::vector<std::string>{"a", "b"}));
  EXPECT_THROW(copy(*source->root(), "run", *target->root(), "copied"), Error);  // exists
  EXPECT_THROW(copy(*source->root(), "nope", *target->root(), "other"), Error);
}

}  // namespace
}  // namespace larder::store

// ---- every pair of drivers ----------------------------------------------------------

namespace larder::store {
namespace {

using larder::testing::Capabilities;
using larder::testing::Driver;
using larder::testing::error_from;
using larder::testing::same;
using larder::testing::sample;

// Records the largest piece of work reported: the largest block copied.
class LargestStep final : public Progress {
 public:
  void start(std::string_view, std::int64_t) override {}
  void advance(std::int64_t units) override { largest = std::max(largest, units); }
  void finish() override {}
  std::int64_t largest = 0;
};

class CopyBetween : public ::testing::TestWithParam<std::tuple<Driver, Driver>> {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(dir_ / "from");
    std::filesystem::create_directories(dir_ / "to");
    source_ = Store::open(from().where(dir_ / "from"), "w", from().options);
    target_ = Store::open(target_path(), "w", to().options);
  }

  const Driver& from() const { return std::get<0>(GetParam()); }
  const Driver& to() const { return std::get<1>(GetParam()); }
  std::filesystem::path target_path() const { return to().where(dir_ / "to"); }
  // What both drivers hold.
  Capabilities both() const {
    const Capabilities& a = from().can;
    const Capabilities& b = to().can;
    return {.compression = a.compression && b.compression,
            .chunks = a.chunks && b.chunks,
            .vstring = a.vstring && b.vstring,
            .fixed_strings = a.fixed_strings && b.fixed_strings,
            .array_attributes = a.array_attributes && b.array_attributes,
            .persistent = b.persistent,
            .complex = a.complex && b.complex,
            .float16 = a.float16 && b.float16,
            .big_endian = a.big_endian && b.big_endian};
  }
  std::vector<DType> dtypes() const {
    const Capabilities can = both();
    return larder::testing::sample_dtypes(can.float16, can.complex, can.big_endian,
                                          can.fixed_strings);
  }

  // A group "run" of every kind of dataset both drivers hold.
  void fill_source() {
    auto root = source_->root();
    auto run = root->create_group("run");
    run->attrs().set("seed", 7);
    run->attrs().set("config", nlohmann::json{{"dims", {"x", "y"}}, {"scale", 0.5}});
    if (both().array_attributes) run->attrs().set("lut", sample(DType::int32(), Shape{2, 2}));
    auto x =
        run->create_dataset("x", {.dtype = DType::float32(),
                                  .shape = Shape{1000, 3},
                                  .chunks = from().can.chunks ? std::vector<std::int64_t>{100, 3}
                                                              : std::vector<std::int64_t>{},
                                  .codec = {.id = from().can.compression ? "blosc-lz4" : "none"}});
    x->write(Selection(), sample(DType::float32(), Shape{1000, 3}));
    x->attrs().set("unit", "m");
    auto ext = run->create_dataset(
        "ext", {.dtype = DType::int64(), .shape = Shape{0, 2}, .extendable = true});
    ext->append(sample(DType::int64(), Shape{5, 2}));
    run->create_dataset("empty",
                        {.dtype = DType::float64(), .shape = Shape{0, 4}, .extendable = true});
    run->create_dataset("scalar", {.dtype = DType::float64(), .shape = Shape{}})
        ->write(Selection(), sample(DType::float64(), Shape{}, 3));
    run->create_dataset("filled", {.dtype = DType::int32(), .shape = Shape{4}, .fill_value = -3})
        ->write(Selection::parse("1"), sample(DType::int32(), Shape{}, 2));
    for (const DType& dtype : dtypes()) {
      run->create_dataset("dtypes/" + dtype.numpy_str().substr(0, 1) + dtype.name(),
                          {.dtype = dtype, .shape = Shape{7, 2}})
          ->write(Selection(), sample(dtype, Shape{7, 2}, 1));
    }
  }

  void check_run(Group& root, const std::string& path) {
    SCOPED_TRACE(path);
    auto run = root.open_group(path);
    EXPECT_EQ(run->attrs().get_json("seed"), 7);
    EXPECT_EQ(run->attrs().get_json("config")["dims"][1], "y");
    if (both().array_attributes) {
      const AttributeValue lut = run->attrs().get("lut");
      ASSERT_TRUE(std::holds_alternative<Array>(lut));
      EXPECT_TRUE(same(std::get<Array>(lut), sample(DType::int32(), Shape{2, 2})));
    }
    auto x = run->open_dataset("x");
    EXPECT_TRUE(same(x->read(), sample(DType::float32(), Shape{1000, 3})));
    EXPECT_EQ(x->attrs().get_json("unit"), "m");
    EXPECT_EQ(x->codec()->id, both().compression ? "blosc-lz4" : "none");
    if (both().chunks) {
      EXPECT_EQ(x->chunks(), (std::vector<std::int64_t>{100, 3}));
    }
    auto ext = run->open_dataset("ext");
    EXPECT_TRUE(ext->extendable());
    EXPECT_TRUE(same(ext->read(Selection::parse(":5")), sample(DType::int64(), Shape{5, 2})));
    auto empty = run->open_dataset("empty");
    EXPECT_TRUE(empty->extendable());
    EXPECT_EQ(empty->shape(), (Shape{0, 4}));
    EXPECT_TRUE(same(run->open_dataset("scalar")->read(), sample(DType::float64(), Shape{}, 3)));
    auto filled = run->open_dataset("filled");
    EXPECT_EQ(filled->fill_value(), -3);
    const Array f = filled->read();
    EXPECT_EQ(f.values<std::int32_t>()[0], -3);
    EXPECT_TRUE(same(take(f, Selection::parse("1")), sample(DType::int32(), Shape{}, 2)));
    for (const DType& dtype : dtypes()) {
      SCOPED_TRACE(dtype.numpy_str());
      auto d = run->open_dataset("dtypes/" + dtype.numpy_str().substr(0, 1) + dtype.name());
      EXPECT_EQ(d->dtype(), dtype);
      EXPECT_TRUE(same(d->read(), sample(dtype, Shape{7, 2}, 1)));
    }
  }

  larder::testing::TempDir dir_;
  std::unique_ptr<Store> source_;
  std::unique_ptr<Store> target_;
};

TEST_P(CopyBetween, GroupsCopyWithEveryDatasetKindInBoundedBlocks) {
  fill_source();
  LargestStep progress;
  copy(*source_->root(), "run", *target_->root(), "copied",
       {.block_bytes = 1000, .progress = &progress});
  EXPECT_GT(progress.largest, 0);
  EXPECT_LE(progress.largest, 1000);  // never more than a block at once
  check_run(*target_->root(), "copied");
  // The copy of an extendable dataset goes on growing.
  auto ext = target_->root()->open_dataset("copied/ext");
  ext->append(sample(DType::int64(), Shape{2}));
  EXPECT_EQ(ext->shape(), (Shape{6, 2}));
  if (to().can.persistent) {
    ext.reset();
    target_->close();
    target_ = Store::open(target_path(), "r", to().options);
    check_run(*target_->root(), "copied");
  }
}

TEST_P(CopyBetween, AWholeStoreCopiesIntoTheTargetsRoot) {
  fill_source();
  source_->root()->attrs().set("title", "sweep");
  target_->root()->create_group("already");
  copy(*source_->root(), "/", *target_->root(), "");
  check_run(*target_->root(), "run");
  EXPECT_EQ(target_->root()->attrs().get_json("title"), "sweep");
  EXPECT_TRUE(target_->root()->contains("already"));
  // Again: "run" is there now, and nothing is touched.
  const Error e = error_from([&] { copy(*source_->root(), "/", *target_->root(), "/"); });
  EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
  EXPECT_NE(e.message().find("run"), std::string::npos) << e.what();
  check_run(*target_->root(), "run");
}

TEST_P(CopyBetween, WhatTheTargetCannotHoldIsRefusedAndLeavesNothing) {
  source_->root()->create_dataset("plain/x", {.dtype = DType::int64(), .shape = Shape{4}});
  if (from().can.vstring) {
    source_->root()
        ->create_dataset("strings/v", {.dtype = DType::vstring(), .shape = Shape{3}})
        ->write_strings(Selection(), {"a", "", "long µ"});
    source_->root()->create_dataset("strings/before", {.dtype = DType::int8(), .shape = Shape{1}});
    if (to().can.vstring) {
      copy(*source_->root(), "strings", *target_->root(), "strings");
      EXPECT_EQ(target_->root()->open_dataset("strings/v")->read_strings(Selection()),
                (std::vector<std::string>{"a", "", "long µ"}));
    } else {
      EXPECT_EQ(error_from([&] {
                  copy(*source_->root(), "strings", *target_->root(), "strings");
                }).code(),
                ErrorCode::unsupported);
      EXPECT_FALSE(target_->root()->contains("strings"));  // "before" was copied, then removed
    }
  }
  const CopyOptions zstd{.codec = codec::CodecSpec{.id = "zstd", .level = 1}};
  if (to().can.compression) {
    copy(*source_->root(), "plain", *target_->root(), "z", zstd);
    EXPECT_EQ(target_->root()->open_dataset("z/x")->codec()->id, "zstd");
  } else {
    // A codec the caller names is never dropped.
    EXPECT_EQ(
        error_from([&] { copy(*source_->root(), "plain", *target_->root(), "z", zstd); }).code(),
        ErrorCode::unsupported);
    EXPECT_FALSE(target_->root()->contains("z"));
  }
  EXPECT_EQ(error_from([&] { copy(*source_->root(), "nope", *target_->root(), "n"); }).code(),
            ErrorCode::not_found);
  EXPECT_EQ(error_from([&] { copy(*source_->root(), "plain/x", *target_->root(), ""); }).code(),
            ErrorCode::invalid_argument);
  EXPECT_FALSE(target_->root()->contains("n"));
}

std::string pair_name(const ::testing::TestParamInfo<std::tuple<Driver, Driver>>& info) {
  return std::get<0>(info.param).name + "_to_" + std::get<1>(info.param).name;
}

INSTANTIATE_TEST_SUITE_P(Drivers, CopyBetween,
                         ::testing::Combine(::testing::ValuesIn(larder::testing::drivers()),
                                            ::testing::ValuesIn(larder::testing::drivers())),
                         pair_name);

// The memory driver's reason to be: a scratch store built in RAM, saved to
// files, and files loaded into RAM.
TEST(Copy, AScratchStoreInMemoryIsSavedToFilesAndLoadedBack) {
  larder::testing::TempDir dir;
  auto scratch = Store::memory();
  auto events = scratch->root()->create_dataset(
      "events", {.dtype = DType::float64(), .shape = Shape{0, 4}, .extendable = true});
  events->append(sample(DType::float64(), Shape{100, 4}));
  events->attrs().set("units", "GeV");
  scratch->root()->create_group("meta")->attrs().set("run", 12);

  for (const char* file : {"saved.h5", "saved.lmm"}) {
    SCOPED_TRACE(file);
    {
      auto saved = Store::open(dir / file, "w");
      copy(*scratch->root(), "/", *saved->root(), "/");
    }
    auto reopened = Store::open(dir / file, "r");
    auto copied = reopened->root()->open_dataset("events");
    EXPECT_TRUE(same(copied->read(), events->read()));
    EXPECT_TRUE(copied->extendable());
    EXPECT_EQ(copied->attrs().get_json("units"), "GeV");
    EXPECT_EQ(reopened->root()->open_group("meta")->attrs().get_json("run"), 12);

    auto loaded = Store::memory();
    copy(*reopened->root(), "/", *loaded->root(), "/");
    EXPECT_TRUE(same(loaded->root()->open_dataset("events")->read(), events->read()));
    EXPECT_EQ(loaded->root()->open_group("meta")->attrs().get_json("run"), 12);
  }
}

}  // namespace
}  // namespace larder::store
