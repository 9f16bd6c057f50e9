#include "larder/core/array.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <numeric>

#include "larder/core/error.h"

namespace larder {
namespace {

// A 3x4 int32 array holding 0..11.
Array iota_3x4() {
  Array a = Array::empty(DType::int32(), Shape{3, 4});
  auto values = a.values<std::int32_t>();
  std::iota(values.begin(), values.end(), 0);
  return a;
}

std::vector<std::int32_t> contents(const Array& a) {
  auto v = a.values<std::int32_t>();
  return {v.begin(), v.end()};
}

TEST(Array, IsAlignedAndZeroed) {
  const Array a = Array::zeros(DType::float64(), Shape{5, 3});
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(a.data()) % 64, 0u);
  EXPECT_EQ(a.nbytes(), 120u);
  for (double v : a.values<double>())
    EXPECT_EQ(v, 0.0);
  const Array empty = Array::empty(DType::int8(), Shape{0, 7});
  EXPECT_EQ(empty.nbytes(), 0u);
}

// Buffers of 4 MiB and more come from their own mapping (huge pages where
// the kernel gives them): still aligned, zeroed on request, writable to the
// last byte, and independent of one another.
TEST(Array, LargeBuffersAreAlignedWritableAndIndependent) {
  const std::int64_t n = (std::int64_t{5} << 20) + 12345;  // not a whole page
  Array a = Array::zeros(DType::uint8(), Shape{n});
  Array b = Array::empty(DType::uint8(), Shape{n});
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(a.data()) % 64, 0u);
  auto av = a.values<std::uint8_t>();
  EXPECT_EQ(std::count(av.begin(), av.end(), 0), n);
  for (std::int64_t i = 0; i < n; ++i)
    av[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(i * 7);
  auto bv = b.values<std::uint8_t>();
  std::fill(bv.begin(), bv.end(), std::uint8_t{1});
  EXPECT_EQ(av.back(), static_cast<std::uint8_t>((n - 1) * 7));
  EXPECT_EQ(av[4097], static_cast<std::uint8_t>(4097 * 7));
  const Array copy = Array::copy_of(a.view());
  EXPECT_EQ(std::memcmp(copy.data(), a.data(), a.nbytes()), 0);
  a = Array::empty(DType::uint8(), Shape{0});  // the first buffer goes back
  EXPECT_EQ(copy.values<std::uint8_t>()[12345], static_cast<std::uint8_t>(12345 * 7));
  EXPECT_EQ(std::count(bv.begin(), bv.end(), 1), n);
}

// A freed large buffer is kept for the next request of about its size (not
// for one under half of it), and zeros() still zeroes what it hands back.
TEST(Array, FreedLargeBuffersServeTheNextOfTheirSize) {
#ifdef __SANITIZE_ADDRESS__
  GTEST_SKIP() << "under AddressSanitizer every buffer comes from the heap";
#endif
  const std::int64_t n = std::int64_t{12} << 20;
  Array a = Array::empty(DType::uint8(), Shape{n});
  std::memset(a.data(), 0xab, a.nbytes());
  const std::byte* first = a.data();
  a = Array::empty(DType::uint8(), Shape{0});
  const Array small = Array::empty(DType::uint8(), Shape{std::int64_t{5} << 20});
  EXPECT_NE(small.data(), first);
  const Array again = Array::zeros(DType::uint8(), Shape{n - 100});
  EXPECT_EQ(again.data(), first);
  auto v = again.values<std::uint8_t>();
  EXPECT_EQ(std::count(v.begin(), v.end(), 0), n - 100);
}

TEST(Array, TakeGathersSlicesListsAndMasks) {
  const Array a = iota_3x4();
  EXPECT_EQ(contents(take(a, Selection::parse("1"))), (std::vector<std::int32_t>{4, 5, 6, 7}));
  EXPECT_EQ(contents(take(a, Selection::parse(":, ::-2"))),
            (std::vector<std::int32_t>{3, 1, 7, 5, 11, 9}));
  EXPECT_EQ(contents(take(a, Selection::parse("[2, 0, 2], 1:3"))),
            (std::vector<std::int32_t>{9, 10, 1, 2, 9, 10}));
  const Array masked =
      take(a, Selection{AxisSelection::mask({false, true, true}), AxisSelection::index(3)});
  EXPECT_EQ(masked.shape(), Shape{2});
  EXPECT_EQ(contents(masked), (std::vector<std::int32_t>{7, 11}));
  const Array scalar = take(a, Selection::parse("2, 3"));
  EXPECT_EQ(scalar.shape(), Shape{});
  EXPECT_EQ(contents(scalar), (std::vector<std::int32_t>{11}));
}

TEST(Array, ViewsSelectWithoutCopying) {
  const Array a = iota_3x4();
  const ArrayView column = a.view().select(Selection::parse(":, 2"));
  EXPECT_EQ(column.shape(), Shape{3});
  EXPECT_FALSE(column.is_contiguous());
  EXPECT_EQ(column.at<std::int32_t>({2}), 10);
  const ArrayView reversed = a.view().select(Selection::parse("::-1"));
  EXPECT_EQ(reversed.at<std::int32_t>({0, 0}), 8);
  EXPECT_EQ(contents(Array::copy_of(reversed)),
            (std::vector<std::int32_t>{8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3}));
  EXPECT_THROW(a.view().select(Selection::parse("[0, 1]")), Error);
  EXPECT_THROW(column.values<std::int32_t>(), Error);  // strided: no flat span
  EXPECT_THROW(a.view().values<float>(), Error);       // wrong type
  EXPECT_THROW(a.view().at<std::int32_t>({3, 0}), Error);
}

TEST(Array, PutScattersAndBroadcasts) {
  Array a = Array::zeros(DType::int32(), Shape{3, 4});
  const Array row = Array::from_values<std::int32_t>(std::vector<std::int32_t>{1, 2, 3, 4});
  put(a.mutable_view(), Selection::parse("1"), row);
  const Array seven = Array::from_values<std::int32_t>(std::vector<std::int32_t>{7});
  put(a.mutable_view(), Selection::parse("[2, 0], ::3"), seven);
  EXPECT_EQ(contents(a), (std::vector<std::int32_t>{7, 0, 0, 7, 1, 2, 3, 4, 7, 0, 0, 7}));
  const Array wrong = Array::zeros(DType::int32(), Shape{3});
  EXPECT_THROW(put(a.mutable_view(), Selection::parse("1"), wrong), Error);
  const Array floats = Array::zeros(DType::float32(), Shape{4});
  EXPECT_THROW(put(a.mutable_view(), Selection::parse("1"), floats), Error);
}

TEST(Array, PutAcceptsStridedValues) {
  Array target = Array::zeros(DType::int32(), Shape{3});
  const Array src = iota_3x4();
  const ArrayView first_column = src.view().select(Selection::parse(":, 0"));  // 0, 4, 8
  put(target.mutable_view(), Selection::parse("::-1"), first_column);
  EXPECT_EQ(contents(target), (std::vector<std::int32_t>{8, 4, 0}));
}

TEST(Array, ReshapeKeepsElementsAndChecksCount) {
  Array a = iota_3x4();
  Array b = std::move(a).reshaped(Shape{2, 6});
  EXPECT_EQ(b.shape(), (Shape{2, 6}));
  EXPECT_EQ(contents(b)[11], 11);
  EXPECT_THROW(std::move(b).reshaped(Shape{5}), Error);
}

TEST(Array, AdoptKeepsTheOwnerAliveThroughBuffer) {
  bool released = false;
  std::shared_ptr<std::byte> keep;
  {
    auto* raw = new std::int64_t[2]{40, 2};
    Array a = Array::adopt(
        DType::int64(), Shape{2},
        std::shared_ptr<std::byte>(reinterpret_cast<std::byte*>(raw), [&released](std::byte* p) {
          released = true;
          delete[] reinterpret_cast<std::int64_t*>(p);
        }));
    EXPECT_EQ(a.values<std::int64_t>()[0] + a.values<std::int64_t>()[1], 42);
    keep = a.buffer();
  }
  EXPECT_FALSE(released);
  keep.reset();
  EXPECT_TRUE(released);
}

TEST(Array, RejectsVariableLengthStrings) {
  try {
    Array::empty(DType::vstring(), Shape{3});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::unsupported);
  }
}

TEST(Shape, CountsPrintsAndValidates) {
  EXPECT_EQ((Shape{3, 4}).num_elements(), 12);
  EXPECT_EQ(Shape{}.num_elements(), 1);
  EXPECT_EQ((Shape{5, 0}).num_elements(), 0);
  EXPECT_EQ((Shape{3, 4}).to_string(), "(3, 4)");
  EXPECT_EQ((Shape{5}).to_string(), "(5,)");
  EXPECT_EQ(Shape{}.to_string(), "()");
  EXPECT_EQ((Shape{3, 4}).without_first(), Shape{4});
  EXPECT_THROW((Shape{3, -1}), Error);
  EXPECT_THROW((Shape{1LL << 40, 1LL << 40}), Error);  // overflows int64
  EXPECT_EQ(c_strides(Shape{2, 3, 4}, 8), (std::vector<std::int64_t>{96, 32, 8}));
}

}  // namespace
}  // namespace larder
