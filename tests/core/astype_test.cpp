#include "larder/core/astype.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "array_helpers.h"
#include "error_of.h"
#include "larder/core/error.h"

namespace larder {
namespace {

using larder::testing::values_of;

TEST(Astype, FollowsNumpysCastingRules) {
  const Array f = Array::from_values<double>(std::vector<double>{-1.7, 0.0, 2.9, 300.5});
  EXPECT_EQ(values_of<std::int32_t>(astype(f, DType::int32())),
            (std::vector<std::int32_t>{-1, 0, 2, 300}));
  EXPECT_EQ(values_of<std::uint8_t>(
                astype(Array::from_values<std::int64_t>(std::vector<std::int64_t>{-1, 256, 257}),
                       DType::uint8())),
            (std::vector<std::uint8_t>{255, 0, 1}));  // integers wrap
  const Array b = astype(f, DType::boolean());
  EXPECT_EQ(b.bytes()[0], std::byte{1});
  EXPECT_EQ(b.bytes()[1], std::byte{0});
  EXPECT_EQ(values_of<float>(astype(b, DType::float32())), (std::vector<float>{1, 0, 1, 1}));
}

TEST(Astype, NaNAndOutOfRangeFloatsGiveTheMinimumOfSignedTypes) {
  const Array f = Array::from_values<double>(
      std::vector<double>{std::nan(""), 1e300, -1e300, std::numeric_limits<double>::infinity()});
  for (auto v : values_of<std::int32_t>(astype(f, DType::int32()))) {
    EXPECT_EQ(v, std::numeric_limits<std::int32_t>::min());
  }
}

TEST(Astype, ConvertsOtherByteOrdersAndRefusesStrings) {
  Array big = Array::from_values<std::int32_t>(std::vector<std::int32_t>{1, 2});
  byteswap(big.data(), 2, DType::int32());
  const Array stored = Array::adopt(DType::int32().big_endian(), Shape{2}, big.buffer());
  EXPECT_EQ(values_of<std::int64_t>(astype(stored, DType::int64())),
            (std::vector<std::int64_t>{1, 2}));
  std::string why;
  EXPECT_EQ(testing::error_of(
                [] { astype(Array::zeros(DType::string(4), Shape{1}), DType::int8()); }, &why),
            ErrorCode::type_mismatch);
  EXPECT_NE(why.find("S4"), std::string::npos) << why;
  EXPECT_FALSE(can_astype(DType::complex64(), DType::float32()));
}

}  // namespace
}  // namespace larder
