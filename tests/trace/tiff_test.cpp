// TIFF stacks written by write_tiff (libtiff) imported slice by slice, from
// one multi-page file and from a folder of slices in natural order.
#include "larder/trace/tiff.h"

#include <gtest/gtest.h>

#include <fstream>

#include "../array_helpers.h"
#include "../error_of.h"
#include "../store/temp_dir.h"
#include "larder/store/store.h"

namespace larder::trace {
namespace {

using testing::error_of;

// (pages, height, width) whose voxel (z, y, x) holds 100 z + 10 y + x.
template <class T>
Array numbered_stack(std::int64_t pages, std::int64_t height, std::int64_t width) {
  std::vector<T> values;
  for (std::int64_t z = 0; z < pages; ++z)
    for (std::int64_t y = 0; y < height; ++y)
      for (std::int64_t x = 0; x < width; ++x)
        values.push_back(static_cast<T>(100 * z + 10 * y + x));
  return testing::array_of<T>(values, Shape{pages, height, width});
}

TEST(Tiff, MultiPageFileBecomesAZYXDataset) {
  const testing::TempDir dir;
  const Array stack = numbered_stack<std::uint16_t>(5, 7, 9);
  write_tiff(dir / "stack.tif", stack, /*deflate=*/true);
  auto store = store::Store::open(dir / "data.h5", "w");
  const TiffStack imported = import_tiff(dir / "stack.tif", *store->root(), "volume");
  EXPECT_EQ(imported.dataset->shape(), (Shape{5, 7, 9}));
  EXPECT_EQ(imported.dataset->dtype(), DType::uint16());
  EXPECT_EQ(imported.dataset->chunks()[0], 1);  // written a slice at a time
  EXPECT_EQ(testing::values_of<std::uint16_t>(imported.dataset->read()),
            testing::values_of<std::uint16_t>(stack));
}

TEST(Tiff, FolderOfSlicesInNaturalOrder) {
  const testing::TempDir dir;
  std::filesystem::create_directory(dir / "slices");
  const Array stack = numbered_stack<float>(12, 4, 6);
  for (std::int64_t z = 0; z < 12; ++z) {
    const Array slice =
        Array::copy_of(stack.view().select(Selection{AxisSelection::slice(z, z + 1, 1)}));
    write_tiff(dir / "slices" / ("slice_" + std::to_string(z) + ".TIF"), slice);
  }
  std::ofstream(dir / "slices" / "notes.txt") << "not a slice";
  auto store = store::Store::open(dir / "data.h5", "w");
  const TiffStack imported = import_tiff(dir / "slices", *store->root(), "stack");
  ASSERT_EQ(imported.files.size(), 12u);
  EXPECT_EQ(imported.files[2].filename(), "slice_2.TIF");  // not slice_10
  EXPECT_EQ(testing::values_of<float>(imported.dataset->read()), testing::values_of<float>(stack));
}

TEST(Tiff, MismatchedSliceIsRefusedAndNothingStays) {
  const testing::TempDir dir;
  std::filesystem::create_directory(dir / "slices");
  write_tiff(dir / "slices" / "a1.tif", numbered_stack<std::uint8_t>(1, 4, 4));
  write_tiff(dir / "slices" / "a2.tif", numbered_stack<std::uint8_t>(1, 5, 4));
  auto store = store::Store::open(dir / "data.h5", "w");
  std::string why;
  EXPECT_EQ(error_of([&] { import_tiff(dir / "slices", *store->root(), "stack"); }, &why),
            ErrorCode::invalid_argument);
  EXPECT_NE(why.find("a2.tif"), std::string::npos) << why;
  EXPECT_FALSE(store->root()->contains("stack"));
  EXPECT_EQ(error_of([&] { import_tiff(dir / "nowhere", *store->root(), "x"); }),
            ErrorCode::not_found);
}

TEST(Tiff, DamagedBytesAreErrorsNotCrashes) {
  const testing::TempDir dir;
  write_tiff(dir / "s.tif", numbered_stack<std::uint8_t>(3, 16, 16));
  std::ifstream in(dir / "s.tif", std::ios::binary);
  std::vector<char> raw((std::istreambuf_iterator<char>(in)), {});
  const auto bytes = std::as_bytes(std::span(raw));
  EXPECT_EQ(decode_tiff(bytes, "s.tif").shape(), (Shape{3, 16, 16}));
  EXPECT_EQ(error_of([&] { decode_tiff(bytes.first(40), "cut.tif"); }), ErrorCode::corrupt);
  std::vector<std::byte> junk(bytes.begin(), bytes.end());
  junk[1] = std::byte{'X'};  // byte order mark
  EXPECT_EQ(error_of([&] { decode_tiff(junk, "junk.tif"); }), ErrorCode::corrupt);
}

}  // namespace
}  // namespace larder::trace
