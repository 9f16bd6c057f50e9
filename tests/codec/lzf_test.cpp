// lzf: larder's LZF encoder and decoder against the format, against a stream
// liblzf wrote, and against damaged input. tests/python/test_hdf5_filters.py
// checks both directions against liblzf and h5py's lzf filter.
#include <gtest/gtest.h>

#include <functional>
#include <initializer_list>
#include <random>
#include <string>

#include "codec/test_data.h"
#include "error_of.h"
#include "larder/codec/codec.h"
#include "larder/codec/registry.h"
#include "larder/core/error.h"

namespace larder::codec {
namespace {

using larder::testing::error_of;
using testing::as_bytes;
using testing::bytes;
using testing::constant_bytes;
using testing::random_bytes;
using testing::smooth_bytes;

std::vector<std::byte> text_bytes(const std::string& text) {
  const auto span = as_bytes(text);
  return {span.begin(), span.end()};
}

const Codec& lzf() {
  static const auto codec = make_codec({.id = "lzf"});
  return *codec;
}

std::vector<std::byte> decoded(std::span<const std::byte> in, std::size_t size) {
  std::vector<std::byte> out(size);
  lzf().decode(in, out);
  return out;
}

std::vector<std::byte> periodic(std::size_t period, std::size_t n) {
  const auto unit = random_bytes(period, period);
  std::vector<std::byte> out;
  while (out.size() < n)
    out.insert(out.end(), unit.begin(), unit.end());
  out.resize(n);
  return out;
}

TEST(Lzf, RoundTripsInputsOfEveryShape) {
  std::vector<std::vector<std::byte>> inputs = {
      {},
      bytes({7}),
      bytes({7, 7}),
      bytes({1, 2, 3}),
      constant_bytes(4),
      random_bytes(31, 1),
      random_bytes(32, 2),
      random_bytes(33, 3),
      random_bytes(65, 4),
      constant_bytes(100000),  // matches of the longest length, back to back
      smooth_bytes(100000, 5),
      random_bytes(70000, 6),
      periodic(8191, 40000),  // matches at and around the largest offset
      periodic(8192, 40000),
      periodic(8193, 40000),
      text_bytes(std::string(5000, 'a') + "b" + std::string(300, 'a')),
  };
  for (const auto& input : inputs) {
    SCOPED_TRACE(::testing::Message() << input.size() << " bytes");
    const auto encoded = lzf().encode(input);
    EXPECT_LE(encoded.size(), lzf().max_encoded_size(input.size()));
    EXPECT_EQ(decoded(encoded, input.size()), input);
  }
}

TEST(Lzf, TheBoundIsEveryByteALiteral) {
  EXPECT_EQ(lzf().max_encoded_size(0), 0u);
  EXPECT_EQ(lzf().max_encoded_size(1), 2u);
  EXPECT_EQ(lzf().max_encoded_size(32), 33u);
  EXPECT_EQ(lzf().max_encoded_size(33), 35u);
  EXPECT_EQ(lzf().max_encoded_size(100000), 100000u + 3125u);
  // Random bytes hold almost no 3-byte repeats: nearly all literals.
  const auto noise = random_bytes(100000, 9);
  EXPECT_GT(lzf().encode(noise).size(), 100000u);
}

TEST(Lzf, CompressesRepetitiveData) {
  EXPECT_LT(lzf().encode(constant_bytes(65536)).size(), 65536u / 50);
  // The second copy of 8 KiB of noise is one run of matches 8192 bytes back.
  const auto twice = periodic(8192, 16384);
  EXPECT_LT(lzf().encode(twice).size(), 8192u + 8192u / 32 + 8192u / 50);
}

TEST(Lzf, DecodesHandMadeStreams) {
  EXPECT_EQ(decoded(bytes({0x02, 'a', 'b', 'c'}), 3), text_bytes("abc"));
  // A match: length field 4 (6 bytes), offset field 2 (3 bytes back).
  EXPECT_EQ(decoded(bytes({0x02, 'a', 'b', 'c', 0x80, 0x02}), 9), text_bytes("abcabcabc"));
  // Length field 7 takes one more byte: 7 + 11 + 2 = 20 bytes, 1 back.
  EXPECT_EQ(decoded(bytes({0x00, 'x', 0xe0, 0x0b, 0x00}), 21), text_bytes(std::string(21, 'x')));
  // The largest offset: ((0x1f << 8) | 0xff) + 1 = 8192 bytes back.
  std::vector<std::byte> stream;
  const auto noise = random_bytes(8192, 4);
  for (std::size_t i = 0; i < noise.size(); i += 32) {
    stream.push_back(std::byte{31});
    stream.insert(stream.end(), noise.begin() + static_cast<std::ptrdiff_t>(i),
                  noise.begin() + static_cast<std::ptrdiff_t>(i + 32));
  }
  stream.insert(stream.end(), {std::byte{0x3f}, std::byte{0xff}});
  auto expected = noise;
  expected.insert(expected.end(), noise.begin(), noise.begin() + 3);
  EXPECT_EQ(decoded(stream, expected.size()), expected);
}

TEST(Lzf, DecodesAStreamLiblzfWrote) {
  // lzf_compress() of liblzf 3.6 (Debian's liblzf1, the library behind
  // h5py's filter) on this sentence three times over.
  const std::string sentence = "larder reads what h5py writes; h5py reads what larder writes. ";
  const auto stream =
      bytes({0x1d, 0x6c, 0x61, 0x72, 0x64, 0x65, 0x72, 0x20, 0x72, 0x65, 0x61, 0x64, 0x73, 0x20,
             0x77, 0x68, 0x61, 0x74, 0x20, 0x68, 0x35, 0x70, 0x79, 0x20, 0x77, 0x72, 0x69, 0x74,
             0x65, 0x73, 0x3b, 0x80, 0x0c, 0xe0, 0x02, 0x1c, 0x00, 0x6c, 0x80, 0x2e, 0x80, 0x1e,
             0x00, 0x2e, 0xc0, 0x0e, 0xe0, 0x02, 0x20, 0xe0, 0x5f, 0x3d, 0x01, 0x2e, 0x20});
  EXPECT_EQ(decoded(stream, 3 * sentence.size()), text_bytes(sentence + sentence + sentence));
}

TEST(Lzf, DamagedStreamsAreCorrupt) {
  struct Case {
    const char* what;
    std::vector<std::byte> stream;
    std::size_t out_size;
  };
  const std::vector<Case> cases = {
      {"literal run past the input's end", bytes({0x05, 'a', 'b'}), 6},
      {"literal run past the output's end", bytes({0x02, 'a', 'b', 'c'}), 2},
      {"match before the output's start", bytes({0x00, 'a', 0x20, 0x01}), 4},
      {"match on an empty output", bytes({0x20, 0x00}), 3},
      {"match past the output's end", bytes({0x00, 'a', 0x20, 0x00}), 3},
      {"match without its offset byte", bytes({0x00, 'a', 0x20}), 4},
      {"match without its length byte", bytes({0x00, 'a', 0xe0}), 20},
      {"stream shorter than the output", bytes({0x00, 'a'}), 2},
      {"empty stream, non-empty output", {}, 1},
      {"tokens after the output is full", bytes({0x00, 'a', 0x00, 'b'}), 1},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    std::string why;
    EXPECT_EQ(error_of([&] { decoded(c.stream, c.out_size); }, &why), ErrorCode::corrupt);
    EXPECT_NE(why.find("lzf"), std::string::npos) << why;
  }
}

TEST(Lzf, EveryTruncationIsCorruptAndBitFlipsNeverCrash) {
  const auto input = smooth_bytes(20000, 3);
  const auto encoded = lzf().encode(input);
  for (std::size_t n = 0; n < encoded.size(); ++n) {
    ASSERT_EQ(error_of([&] { decoded(std::span(encoded).first(n), input.size()); }),
              ErrorCode::corrupt)
        << "truncated to " << n;
  }
  std::mt19937_64 rng(11);
  for (int trial = 0; trial < 3000; ++trial) {
    auto damaged = encoded;
    damaged[rng() % damaged.size()] ^= static_cast<std::byte>(1u << (rng() % 8));
    std::vector<std::byte> out(input.size());
    try {
      lzf().decode(damaged, out);
    } catch (const Error& e) {
      ASSERT_EQ(e.code(), ErrorCode::corrupt) << e.what();
    }
  }
}

TEST(Lzf, SpecHasNoSettings) {
  EXPECT_EQ(make_codec({.id = "lzf", .level = 9, .typesize = 4})->spec(), CodecSpec{.id = "lzf"});
  EXPECT_EQ(CodecSpec::parse("lzf"), CodecSpec{.id = "lzf"});
  EXPECT_EQ(error_of([] { make_codec({.id = "lzf", .format = "liblzf"}); }),
            ErrorCode::invalid_argument);
  EXPECT_EQ(lzf().decoded_size(lzf().encode(smooth_bytes(100, 1))), std::nullopt);
}

TEST(Lzf, Hdf5FilterIsH5pysAndNumcodecsHasNone) {
  const Hdf5Filter filter = lzf().hdf5_filter(4000);
  EXPECT_EQ(filter.id, 32000u);
  EXPECT_EQ(filter.name, "lzf");
  EXPECT_EQ(filter.cd_values, (std::vector<unsigned>{4, 0x105, 4000}));
  const auto& registry = CodecRegistry::builtin();
  EXPECT_EQ(registry.spec_from_hdf5(32000, filter.cd_values), lzf().spec());
  EXPECT_EQ(registry.spec_from_hdf5(32000, {}), lzf().spec());
  std::string why;
  EXPECT_EQ(error_of([] { lzf().hdf5_filter(std::size_t{5} << 30); }, &why),
            ErrorCode::unsupported);
  EXPECT_NE(why.find("5368709120"), std::string::npos) << why;
  EXPECT_EQ(error_of([] { (void)lzf().numcodecs_config(); }, &why), ErrorCode::unsupported);
  EXPECT_NE(why.find("lzf"), std::string::npos) << why;
}

}  // namespace
}  // namespace larder::codec
