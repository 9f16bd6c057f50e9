#include "larder/core/dtype.h"

#include <gtest/gtest.h>

#include "larder/core/error.h"

namespace larder {
namespace {

TEST(DType, NumpyStringsRoundTrip) {
  for (const char* text : {"|b1", "|i1", "<i2", "<i4", "<i8", "|u1", "<u2", "<u4", "<u8", "<f2",
                           "<f4", "<f8", "<c8", "<c16", "|S1", "|S10", "|O"}) {
    EXPECT_EQ(DType::from_string(text).numpy_str(), text) << text;
  }
}

TEST(DType, ItemSizesAndNames) {
  EXPECT_EQ(DType::float32().item_size(), 4u);
  EXPECT_EQ(DType::complex128().item_size(), 16u);
  EXPECT_EQ(DType::boolean().item_size(), 1u);
  EXPECT_EQ(DType::string(7).item_size(), 7u);
  EXPECT_EQ(DType::vstring().item_size(), 0u);
  EXPECT_EQ(DType::uint16().name(), "uint16");
  EXPECT_EQ(DType::complex64().name(), "complex64");
  EXPECT_EQ(DType::string(3).name(), "S3");
  EXPECT_EQ(DType::vstring().name(), "vstring");
  EXPECT_EQ(DType::from_string("float64"), DType::float64());
  EXPECT_EQ(DType::from_string("bool"), DType::boolean());
}

TEST(DType, NativeAndBigEndianSpellings) {
  EXPECT_EQ(DType::from_string("f8"), DType::float64());
  EXPECT_EQ(DType::from_string("=i4"), DType::int32());
  EXPECT_EQ(DType::from_string("?"), DType::boolean());
  const DType big = DType::from_string(">f4");
  EXPECT_EQ(big.byte_order(), ByteOrder::big);
  EXPECT_FALSE(big.is_native());
  EXPECT_EQ(big.numpy_str(), ">f4");
  EXPECT_EQ(big.native(), DType::float32());
  EXPECT_EQ(DType::float32().big_endian(), big);
  // One-byte types and strings have no byte order.
  EXPECT_EQ(DType::from_string(">u1"), DType::uint8());
  EXPECT_EQ(DType::from_string(">S4").numpy_str(), "|S4");
}

TEST(DType, RejectsMalformedTextNamingIt) {
  for (const char* text :
       {"", "<", "<f3", "<i16", "|S0", "<x4", "<f", "<f4x", "<U8", "|O8", "b2", "<c4"}) {
    try {
      DType::from_string(text);
      ADD_FAILURE() << "accepted '" << text << "'";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
      EXPECT_NE(std::string(e.what()).find(std::string("'") + text + "'"), std::string::npos)
          << e.what();
    }
  }
}

TEST(DType, ByteswapReversesEachWordAndEachHalfOfComplex) {
  std::uint32_t words[2] = {0x01020304u, 0xa0b0c0d0u};
  byteswap(words, 2, DType::int32());
  EXPECT_EQ(words[0], 0x04030201u);
  EXPECT_EQ(words[1], 0xd0c0b0a0u);
  std::uint32_t complex_parts[2] = {0x01020304u, 0x05060708u};
  byteswap(complex_parts, 1, DType::complex64());
  EXPECT_EQ(complex_parts[0], 0x04030201u);
  EXPECT_EQ(complex_parts[1], 0x08070605u);
  std::uint8_t bytes[2] = {1, 2};
  byteswap(bytes, 2, DType::uint8());
  EXPECT_EQ(bytes[0], 1);
}

TEST(DType, CxxTypesMap) {
  EXPECT_EQ(dtype_of<float>(), DType::float32());
  EXPECT_EQ(dtype_of<std::int64_t>(), DType::int64());
  EXPECT_EQ(dtype_of<std::complex<double>>(), DType::complex128());
  EXPECT_EQ(dtype_of<const bool>(), DType::boolean());
}

}  // namespace
}  // namespace larder
