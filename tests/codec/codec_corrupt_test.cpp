// Damaged input — truncated, bit-flipped, with headers that lie about sizes,
// or decoded into the wrong size — gives Error(corrupt): never a crash, a
// hang or another exception.
#include <gtest/gtest.h>

#include <random>

#include "codec/test_data.h"
#include "larder/codec/codec.h"
#include "larder/codec/registry.h"
#include "larder/core/error.h"

namespace larder::codec {
namespace {

using testing::random_bytes;
using testing::smooth_bytes;

enum class Outcome { decoded, corrupt, other_error };

// Decodes `in` into `out_size` bytes and says how it went; `why` gets the message.
Outcome try_decode(const Codec& codec, std::span<const std::byte> in, std::size_t out_size,
                   std::string* why = nullptr) {
  std::vector<std::byte> out(out_size);
  try {
    codec.decode(in, out);
    return Outcome::decoded;
  } catch (const Error& e) {
    if (why) *why = e.what();
    return e.code() == ErrorCode::corrupt ? Outcome::corrupt : Outcome::other_error;
  } catch (const std::exception& e) {
    if (why) *why = e.what();
    return Outcome::other_error;
  }
}

#define EXPECT_CORRUPT(codec, in, out_size)                                            \
  do {                                                                                 \
    std::string why_;                                                                  \
    EXPECT_EQ(try_decode((codec), (in), (out_size), &why_), Outcome::corrupt) << why_; \
  } while (0)

std::vector<std::byte> with_trailing_bytes(std::vector<std::byte> bytes) {
  bytes.push_back(std::byte{0});
  bytes.push_back(std::byte{0x5a});
  return bytes;
}

class Corrupt : public ::testing::TestWithParam<CodecSpec> {
 protected:
  const std::unique_ptr<Codec> codec = make_codec(GetParam());
  const std::vector<std::byte> input = smooth_bytes(20000, 17);
  const std::vector<std::byte> encoded = codec->encode(input);
};

TEST_P(Corrupt, EveryTruncationIsCorrupt) {
  const std::size_t step = std::max<std::size_t>(1, encoded.size() / 500);
  for (std::size_t n = 0; n < encoded.size(); n += (n + 20 >= encoded.size() ? 1 : step)) {
    SCOPED_TRACE(::testing::Message() << "truncated to " << n << " of " << encoded.size());
    EXPECT_CORRUPT(*codec, std::span(encoded).first(n), input.size());
  }
}

TEST_P(Corrupt, DecodingIntoTheWrongSizeIsCorrupt) {
  for (std::size_t size : {std::size_t{0}, input.size() - 1, input.size() + 1, 2 * input.size()}) {
    SCOPED_TRACE(size);
    EXPECT_CORRUPT(*codec, encoded, size);
  }
  EXPECT_EQ(try_decode(*codec, encoded, input.size()), Outcome::decoded);
}

TEST_P(Corrupt, ThousandsOfRandomBitFlipsDecodeOrAreCorrupt) {
  std::mt19937_64 rng(20240601);
  int corrupt = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    std::vector<std::byte> damaged = encoded;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) {
      damaged[rng() % damaged.size()] ^= static_cast<std::byte>(1u << (rng() % 8));
    }
    std::string why;
    const Outcome outcome = try_decode(*codec, damaged, input.size(), &why);
    ASSERT_NE(outcome, Outcome::other_error) << "trial " << trial << ": " << why;
    if (outcome == Outcome::corrupt) ++corrupt;
  }
  if (codec->spec().id == "none") {
    EXPECT_EQ(corrupt, 0);  // flipped bits are still bytes of the right count
  } else {
    EXPECT_GT(corrupt, 0);
  }
}

TEST_P(Corrupt, RandomGarbageDecodesOrIsCorrupt) {
  std::mt19937_64 rng(7);
  for (int trial = 0; trial < 2000; ++trial) {
    const auto garbage = random_bytes(rng() % 300, rng());
    std::string why;
    ASSERT_NE(try_decode(*codec, garbage, rng() % 1000, &why), Outcome::other_error) << why;
  }
}

TEST_P(Corrupt, TrailingBytesAreCorrupt) {
  EXPECT_CORRUPT(*codec, with_trailing_bytes(encoded), input.size());
}

INSTANTIATE_TEST_SUITE_P(AllCodecs, Corrupt, ::testing::ValuesIn(testing::one_of_each_codec()),
                         [](const ::testing::TestParamInfo<CodecSpec>& param) {
                           return testing::test_name(param.param);
                         });

TEST(CorruptHeader, BloscFrameClaimingOtherSizes) {
  const auto codec = make_codec({.id = "blosc-lz4", .typesize = 4});
  const auto input = smooth_bytes(10000, 1);
  const auto encoded = codec->encode(input);
  for (std::uint32_t claim : {9999u, 10001u, 1u << 30, 0x7fffffffu, 0xffffffffu}) {
    SCOPED_TRACE(claim);
    auto lying = encoded;
    store_le(lying.data() + 4, claim, 4);  // nbytes
    EXPECT_CORRUPT(*codec, lying, input.size());
    if (claim < 20000) EXPECT_CORRUPT(*codec, lying, claim);
  }
  for (std::uint32_t claim :
       {0u, 15u, static_cast<std::uint32_t>(encoded.size() + 1), 0xffffffffu}) {
    SCOPED_TRACE(claim);
    auto lying = encoded;
    store_le(lying.data() + 12, claim, 4);  // cbytes
    EXPECT_CORRUPT(*codec, lying, input.size());
  }
}

TEST(CorruptHeader, Lz4Hdf5ClaimingOtherSizes) {
  const auto codec = make_codec({.id = "lz4", .block_size = 4096});
  const auto input = smooth_bytes(10000, 2);
  const auto encoded = codec->encode(input);
  for (std::uint64_t claim : {9999ull, 10001ull, 1ull << 40, ~0ull}) {
    SCOPED_TRACE(claim);
    auto lying = encoded;
    store_be(lying.data(), claim, 8);
    EXPECT_CORRUPT(*codec, lying, input.size());
    if (claim < 20000) EXPECT_CORRUPT(*codec, lying, claim);
  }
  for (std::uint32_t block : {0u, 1u, 4095u, 4097u}) {
    SCOPED_TRACE(block);
    auto lying = encoded;
    store_be(lying.data() + 8, block, 4);
    EXPECT_CORRUPT(*codec, lying, input.size());
  }
  for (std::uint32_t length : {0u, 4096u, 0x7fffffffu, 0xffffffffu}) {
    SCOPED_TRACE(length);
    auto lying = encoded;
    store_be(lying.data() + 12, length, 4);  // the first block's stored length
    EXPECT_CORRUPT(*codec, lying, input.size());
  }
}

TEST(CorruptHeader, Lz4NumcodecsClaimingOtherSizes) {
  const auto codec = make_codec({.id = "lz4", .format = "numcodecs"});
  const auto input = smooth_bytes(10000, 3);
  const auto encoded = codec->encode(input);
  for (std::uint32_t claim : {0u, 9999u, 10001u, 0x7fffffffu, 0xffffffffu}) {
    SCOPED_TRACE(claim);
    auto lying = encoded;
    store_le(lying.data(), claim, 4);
    EXPECT_CORRUPT(*codec, lying, input.size());
    if (claim < 20000) EXPECT_CORRUPT(*codec, lying, claim);
  }
}

TEST(CorruptHeader, ZstdStreamedFrameLongerOrShorterThanExpected) {
  // A frame without a content size: only decoding tells how long it is.
  const auto input = smooth_bytes(300000, 4);
  const auto frame = testing::zstd_frame_without_size(input);
  ASSERT_FALSE(frame.empty());
  const std::size_t n = frame.size();

  const auto codec = make_codec({.id = "zstd"});
  EXPECT_EQ(codec->decoded_size(frame), std::nullopt);
  EXPECT_EQ(try_decode(*codec, frame, input.size()), Outcome::decoded);
  for (std::size_t size : {std::size_t{0}, std::size_t{1000}, input.size() - 1, input.size() + 1}) {
    SCOPED_TRACE(size);
    EXPECT_CORRUPT(*codec, frame, size);
  }
  for (std::size_t cut : {std::size_t{3}, n / 2, n - 1}) {
    SCOPED_TRACE(cut);
    EXPECT_CORRUPT(*codec, std::span(frame).first(cut), input.size());
  }
  EXPECT_CORRUPT(*codec, with_trailing_bytes(frame), input.size());
}

TEST(CorruptHeader, ZstdTwoFramesAreNotOne) {
  const auto codec = make_codec({.id = "zstd"});
  const auto input = smooth_bytes(1000, 5);
  auto twice = codec->encode(input);
  const auto again = codec->encode(input);
  twice.insert(twice.end(), again.begin(), again.end());
  EXPECT_CORRUPT(*codec, twice, input.size());
  EXPECT_CORRUPT(*codec, twice, 2 * input.size());
}

TEST(CorruptHeader, MessagesNameCodecAndSizes) {
  const auto codec = make_codec({.id = "lz4", .format = "numcodecs"});
  auto encoded = codec->encode(smooth_bytes(100, 6));
  std::string why;
  ASSERT_EQ(try_decode(*codec, encoded, 64, &why), Outcome::corrupt);
  EXPECT_NE(why.find("lz4"), std::string::npos) << why;
  EXPECT_NE(why.find(std::to_string(encoded.size()) + "-byte input"), std::string::npos) << why;
  EXPECT_NE(why.find("declares 100"), std::string::npos) << why;
  EXPECT_NE(why.find("expected 64"), std::string::npos) << why;
}

}  // namespace
}  // namespace larder::codec
