// Every codec, with every shuffle and typesize blosc takes, gives back what
// it was given.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "codec/test_data.h"
#include "larder/codec/codec.h"
#include "larder/codec/registry.h"

namespace larder::codec {
namespace {

using testing::constant_bytes;
using testing::random_bytes;
using testing::smooth_bytes;

struct Input {
  std::string name;
  std::vector<std::byte> bytes;
};

const std::vector<Input>& inputs() {
  static const std::vector<Input> all = {
      {"empty", {}},
      {"one byte", random_bytes(1, 1)},
      {"seven bytes", random_bytes(7, 7)},
      {"random 4 KiB", random_bytes(4096, 42)},
      {"constant 4 KiB", constant_bytes(4096)},
      {"smooth 64 KiB + 3", smooth_bytes(65539, 5)},
      {"random 1000003 bytes", random_bytes(1000003, 3)},
      {"smooth 1000003 bytes", smooth_bytes(1000003, 9)},
  };
  return all;
}

std::vector<CodecSpec> all_codec_settings() {
  std::vector<CodecSpec> specs;
  for (const char* id : {"blosc-blosclz", "blosc-lz4", "blosc-lz4hc", "blosc-zstd", "blosc-zlib"}) {
    for (Shuffle shuffle : {Shuffle::none, Shuffle::byte, Shuffle::bit}) {
      for (int typesize : {1, 2, 4, 8}) {
        specs.push_back({.id = id, .shuffle = shuffle, .typesize = typesize});
      }
    }
  }
  specs.push_back({.id = "blosc-lz4", .level = 0, .typesize = 4});
  specs.push_back({.id = "blosc-zstd", .level = 9, .shuffle = Shuffle::bit, .typesize = 4});
  specs.push_back({.id = "blosc-lz4", .typesize = 4, .block_size = 4096});
  specs.push_back({.id = "zstd"});
  specs.push_back({.id = "zstd", .level = 1});
  specs.push_back({.id = "zstd", .level = -5});
  specs.push_back({.id = "zstd", .level = 9});
  specs.push_back({.id = "lz4"});
  specs.push_back({.id = "lz4", .block_size = 1000});
  specs.push_back({.id = "lz4", .level = 8, .block_size = 65536});
  specs.push_back({.id = "lz4", .format = "numcodecs"});
  specs.push_back({.id = "lz4", .level = 8, .format = "numcodecs"});
  specs.push_back({.id = "gzip"});
  specs.push_back({.id = "gzip", .level = 0});
  specs.push_back({.id = "gzip", .level = 9});
  specs.push_back({.id = "gzip", .format = "gzip"});
  specs.push_back({.id = "none"});
  return specs;
}

class RoundTrip : public ::testing::TestWithParam<CodecSpec> {};

TEST_P(RoundTrip, DecodesToTheInput) {
  const auto codec = make_codec(GetParam());
  for (const auto& input : inputs()) {
    SCOPED_TRACE(input.name);
    const std::vector<std::byte> encoded = codec->encode(input.bytes);
    EXPECT_LE(encoded.size(), codec->max_encoded_size(input.bytes.size()));

    std::vector<std::byte> decoded(input.bytes.size(), std::byte{0xee});
    codec->decode(encoded, decoded);
    EXPECT_EQ(decoded, input.bytes);

    const auto declared = codec->decoded_size(encoded);
    if (declared) {
      EXPECT_EQ(*declared, input.bytes.size());
    }
  }
}

TEST_P(RoundTrip, EncodeIntoABoundSizedBufferMatchesEncode) {
  const auto codec = make_codec(GetParam());
  const auto input = smooth_bytes(10007, 11);
  std::vector<std::byte> out(codec->max_encoded_size(input.size()));
  const std::size_t n = codec->encode_into(input, out);
  out.resize(n);
  EXPECT_EQ(out, codec->encode(input));
}

TEST_P(RoundTrip, CompressesRepetitiveDataUnlessLevelZero) {
  const auto codec = make_codec(GetParam());
  const auto input = constant_bytes(65536);
  const bool stores_as_is = codec->spec().id == "none" || codec->spec().level == 0;
  if (stores_as_is) {
    EXPECT_GE(codec->encode(input).size(), input.size());
  } else {
    EXPECT_LT(codec->encode(input).size(), input.size() / 10);
  }
}

INSTANTIATE_TEST_SUITE_P(AllCodecs, RoundTrip, ::testing::ValuesIn(all_codec_settings()),
                         [](const ::testing::TestParamInfo<CodecSpec>& param) {
                           return testing::test_name(param.param);
                         });

TEST(RoundTrip, BloscShuffleHelpsSmoothData) {
  const auto input = smooth_bytes(1 << 20, 2);
  const auto plain = make_codec({.id = "blosc-lz4", .shuffle = Shuffle::none, .typesize = 4});
  const auto shuffled = make_codec({.id = "blosc-lz4", .shuffle = Shuffle::byte, .typesize = 4});
  EXPECT_LT(shuffled->encode(input).size(), plain->encode(input).size());
}

TEST(RoundTrip, OneCodecServesManyThreads) {
  const auto codec = make_codec({.id = "zstd"});
  const auto input = smooth_bytes(200000, 8);
  const auto encoded = codec->encode(input);
  std::vector<std::thread> threads;
  std::atomic<int> good{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20; ++i) {
        std::vector<std::byte> out(input.size());
        codec->decode(codec->encode(input), out);
        if (out == input && codec->encode(input) == encoded) ++good;
      }
    });
  }
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(good.load(), 80);
}

}  // namespace
}  // namespace larder::codec
