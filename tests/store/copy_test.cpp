#include "larder/store/copy.h"

#include <gtest/gtest.h>

#include <numeric>

#include "larder/core/error.h"
#include "larder/store/store.h"
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
