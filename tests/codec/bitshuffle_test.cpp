// bitshuffle: the bit transpose against its definition and against c-blosc's
// copy of the bitshuffle library, the filter's chunk layout byte for byte,
// round trips, damaged input, and the spec <-> cd_values mapping.
#include <blosc.h>
#include <gtest/gtest.h>
#include <lz4.h>

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
using testing::bytes;
using testing::constant_bytes;
using testing::random_bytes;
using testing::smooth_bytes;

std::unique_ptr<Codec> transpose_only(int typesize, std::size_t block_size = 0) {
  return make_codec(
      {.id = "bitshuffle", .typesize = typesize, .block_size = block_size, .format = "none"});
}

bool bit(std::span<const std::byte> bytes, std::size_t index) {
  return (std::to_integer<unsigned>(bytes[index / 8]) >> (index % 8) & 1u) != 0;
}

void set_bit(std::span<std::byte> bytes, std::size_t index) {
  bytes[index / 8] |= static_cast<std::byte>(1u << (index % 8));
}

// The definition, bit by bit: bit k of byte j of element i becomes bit
// (8j + k) * n + i of the block (bits counted from each byte's lowest).
std::vector<std::byte> reference_transpose(std::span<const std::byte> block, std::size_t s) {
  const std::size_t n = block.size() / s;
  std::vector<std::byte> out(block.size());
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t b = 0; b < 8 * s; ++b) {
      if (bit(block, 8 * s * i + b)) set_bit(out, b * n + i);
    }
  }
  return out;
}

// A chunk as format "none" lays it out: blocks of `block` elements, then a
// shorter block rounded down to 8 elements, then the last elements raw.
std::vector<std::byte> reference_chunk(std::span<const std::byte> data, std::size_t s,
                                       std::size_t block) {
  const std::size_t n = data.size() / s;
  std::vector<std::byte> out;
  std::size_t done = 0;
  while (n - done >= 8) {
    const std::size_t count = std::min(block, (n - done) / 8 * 8);
    const auto t = reference_transpose(data.subspan(done * s, count * s), s);
    out.insert(out.end(), t.begin(), t.end());
    done += count;
  }
  out.insert(out.end(), data.begin() + static_cast<std::ptrdiff_t>(done * s), data.end());
  return out;
}

TEST(Bitshuffle, TransposesHandComputedBlocks) {
  // One-byte elements: row k holds bit k of elements 0..7, element 0 lowest.
  EXPECT_EQ(transpose_only(1)->encode(bytes({1, 0, 0, 0, 0, 0, 0, 0})),
            bytes({1, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(transpose_only(1)->encode(bytes({0x80, 0, 0, 0, 0, 0, 0, 0})),
            bytes({0, 0, 0, 0, 0, 0, 0, 1}));
  EXPECT_EQ(transpose_only(1)->encode(bytes({0, 0, 0, 0, 0, 0, 0, 0xff})),
            bytes({0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80}));
  // 0..7: bit 0 is set in the odd ones, bit 1 in 2, 3, 6, 7, bit 2 in 4..7.
  EXPECT_EQ(transpose_only(1)->encode(bytes({0, 1, 2, 3, 4, 5, 6, 7})),
            bytes({0xaa, 0xcc, 0xf0, 0, 0, 0, 0, 0}));
  // Little-endian uint16 0x0100 in element 0: bit 8, that is row 8.
  auto two = bytes({0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
  auto expected = std::vector<std::byte>(16);
  expected[8] = std::byte{0x01};
  EXPECT_EQ(transpose_only(2)->encode(two), expected);
  // 16 uint16 elements, element 9 = 0x8000: row 15 (2 bytes a row), bit 9.
  std::vector<std::byte> sixteen(32);
  sixteen[9 * 2 + 1] = std::byte{0x80};
  expected.assign(32, std::byte{0});
  expected[15 * 2 + 1] = std::byte{0x02};
  EXPECT_EQ(transpose_only(2)->encode(sixteen), expected);
  // uint32 element 3 all ones: every one of the 32 rows has bit 3.
  std::vector<std::byte> words(32);
  for (int i = 12; i < 16; ++i)
    words[static_cast<std::size_t>(i)] = std::byte{0xff};
  EXPECT_EQ(transpose_only(4)->encode(words), std::vector<std::byte>(32, std::byte{0x08}));
}

TEST(Bitshuffle, TransposeFollowsTheDefinitionForEveryShape) {
  for (int s : {1, 2, 3, 4, 5, 8, 16}) {
    for (std::size_t n : {0, 1, 7, 8, 9, 16, 24, 1000, 4103}) {
      for (std::size_t block : {8, 64, 0}) {
        SCOPED_TRACE(::testing::Message()
                     << "typesize " << s << ", " << n << " elements, block " << block);
        const auto codec = transpose_only(s, block);
        const auto data = random_bytes(n * static_cast<std::size_t>(s), n + block);
        const auto encoded = codec->encode(data);
        EXPECT_EQ(encoded,
                  reference_chunk(data, static_cast<std::size_t>(s), codec->spec().block_size));
        std::vector<std::byte> back(data.size());
        codec->decode(encoded, back);
        EXPECT_EQ(back, data);
      }
    }
  }
}

// The bit-shuffled content of each block of a c-blosc 1.x frame. c-blosc
// shuffles a block with its copy of the bitshuffle library (bshuf_trans_bit_elem)
// when the block holds a multiple of 8 elements, then compresses it as one
// stream or as one stream per byte of the element; a stream whose stored
// length equals its decoded length is raw. Blocks of other element counts
// come back empty (c-blosc copies them unshuffled).
std::vector<std::vector<std::byte>> blosc_shuffled_blocks(std::span<const std::byte> frame) {
  const auto flags = std::to_integer<unsigned>(frame[2]);
  const auto typesize = std::to_integer<std::size_t>(frame[3]);
  const std::size_t nbytes = load_le(frame.data() + 4, 4);
  const std::size_t blocksize = load_le(frame.data() + 8, 4);
  const std::size_t cbytes = load_le(frame.data() + 12, 4);
  EXPECT_NE(flags & BLOSC_DOBITSHUFFLE, 0u);
  EXPECT_EQ(flags & BLOSC_MEMCPYED, 0u);
  const std::size_t nblocks = (nbytes + blocksize - 1) / blocksize;
  std::vector<std::vector<std::byte>> blocks;
  for (std::size_t b = 0; b < nblocks; ++b) {
    const std::size_t start = load_le(frame.data() + 16 + 4 * b, 4);
    const std::size_t end = b + 1 < nblocks ? load_le(frame.data() + 16 + 4 * (b + 1), 4) : cbytes;
    const std::size_t size = std::min(blocksize, nbytes - b * blocksize);
    std::vector<std::byte> shuffled;
    for (std::size_t streams : {std::size_t{1}, typesize}) {
      if (size % streams != 0) continue;
      const std::size_t stream_size = size / streams;
      std::vector<std::byte> out(size);
      std::size_t pos = start;
      bool ok = true;
      for (std::size_t k = 0; ok && k < streams; ++k) {
        ok = end - pos >= 4;
        if (!ok) break;
        const std::size_t stored = load_le(frame.data() + pos, 4);
        pos += 4;
        ok = stored <= end - pos;
        if (!ok) break;
        const auto dest = std::span(out).subspan(k * stream_size, stream_size);
        if (stored == stream_size) {
          std::copy_n(frame.begin() + static_cast<std::ptrdiff_t>(pos), stored, dest.begin());
        } else {
          const int n =
              LZ4_decompress_safe(reinterpret_cast<const char*>(frame.data() + pos),
                                  reinterpret_cast<char*>(dest.data()), static_cast<int>(stored),
                                  static_cast<int>(stream_size));
          ok = n == static_cast<int>(stream_size);
        }
        pos += stored;
      }
      if (ok && pos == end) {
        shuffled = std::move(out);
        break;
      }
    }
    EXPECT_FALSE(shuffled.empty()) << "block " << b << " of the blosc frame did not parse";
    if ((size / typesize) % 8 != 0) shuffled.clear();
    blocks.push_back(std::move(shuffled));
  }
  return blocks;
}

TEST(Bitshuffle, TransposeMatchesCBloscsBitshuffle) {
  for (int s : {1, 2, 3, 4, 8, 12, 16, 32}) {
    SCOPED_TRACE(::testing::Message() << "typesize " << s);
    const auto ts = static_cast<std::size_t>(s);
    int compared = 0;
    // c-blosc picks its own block size: one block for the small buffer,
    // several for the large one (the blocksize argument is only a hint).
    for (std::size_t elements : {8000, 40000}) {
      const auto data = smooth_bytes(ts * elements, elements);
      std::vector<std::byte> frame(data.size() + BLOSC_MAX_OVERHEAD);
      const int n = blosc_compress_ctx(5, BLOSC_BITSHUFFLE, ts, data.size(), data.data(),
                                       frame.data(), frame.size(), "lz4", 0, 1);
      ASSERT_GT(n, 0);
      frame.resize(static_cast<std::size_t>(n));
      const std::size_t blocksize = load_le(frame.data() + 8, 4);
      const auto blocks = blosc_shuffled_blocks(frame);
      for (std::size_t b = 0; b < blocks.size(); ++b) {
        if (blocks[b].empty()) continue;
        const auto original = std::span(data).subspan(b * blocksize, blocks[b].size());
        const auto codec = transpose_only(s, original.size() / ts);
        EXPECT_EQ(codec->encode(original), blocks[b]) << elements << " elements, block " << b;
        ++compared;
      }
    }
    EXPECT_GE(compared, 2);
  }
}

TEST(Bitshuffle, DefaultBlockFollowsBitshufflesRule) {
  // max(128, 8192 / typesize rounded down to a multiple of 8) elements.
  const std::vector<std::pair<int, std::size_t>> expected = {
      {1, 8192}, {2, 4096}, {3, 2728}, {4, 2048}, {8, 1024}, {64, 128}, {100, 128}, {1000, 128}};
  for (const auto& [typesize, block] : expected) {
    SCOPED_TRACE(typesize);
    const auto codec = make_codec({.id = "bitshuffle", .typesize = typesize});
    EXPECT_EQ(codec->spec().block_size, block);
    const auto encoded = codec->encode(std::vector<std::byte>(static_cast<std::size_t>(typesize)));
    EXPECT_EQ(load_be(encoded.data() + 8, 4), block * static_cast<std::size_t>(typesize));  // bytes
  }
}

TEST(Bitshuffle, WritesTheFilterLayoutByteForByte) {
  const auto codec = make_codec({.id = "bitshuffle"});
  // 8 zero bytes: header (size 8, block 8192 bytes), one block whose LZ4
  // form is a single literal run of 8 bytes (token 0x80).
  EXPECT_EQ(
      codec->encode(std::vector<std::byte>(8)),
      bytes({0, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0x20, 0, 0, 0, 0, 9, 0x80, 0, 0, 0, 0, 0, 0, 0, 0}));
  // 10 bytes: the same block, then the 2 elements past it raw.
  EXPECT_EQ(codec->encode(bytes({0, 0, 0, 0, 0, 0, 0, 0, 0xab, 0xcd})),
            bytes({0, 0, 0,    0, 0, 0, 0, 10, 0, 0, 0x20, 0,    0,   0,
                   0, 9, 0x80, 0, 0, 0, 0, 0,  0, 0, 0,    0xab, 0xcd}));
  EXPECT_EQ(codec->encode({}), bytes({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x20, 0}));
}

TEST(Bitshuffle, EachBlockIsTheLz4OfItsTranspose) {
  const std::size_t s = 4;
  const std::size_t block = 256;
  const auto codec = make_codec({.id = "bitshuffle", .typesize = 4, .block_size = block});
  // 868 elements: three blocks of 256, a short block of 96, 4 elements raw.
  const auto data = smooth_bytes(s * (3 * block + 100), 3);
  const auto encoded = codec->encode(data);
  ASSERT_EQ(load_be(encoded.data(), 8), data.size());
  ASSERT_EQ(load_be(encoded.data() + 8, 4), block * s);
  std::size_t pos = 12;
  std::size_t done = 0;
  for (std::size_t count : {block, block, block, std::size_t{96}}) {
    SCOPED_TRACE(done);
    const std::size_t stored = load_be(encoded.data() + pos, 4);
    pos += 4;
    std::vector<std::byte> raw(count * s);
    const int n = LZ4_decompress_safe(reinterpret_cast<const char*>(encoded.data() + pos),
                                      reinterpret_cast<char*>(raw.data()), static_cast<int>(stored),
                                      static_cast<int>(raw.size()));
    ASSERT_EQ(n, static_cast<int>(raw.size()));
    EXPECT_EQ(raw, reference_transpose(std::span(data).subspan(done * s, count * s), s));
    // LZ4 at its default acceleration, as bitshuffle calls it: byte-identical.
    std::vector<char> again(
        static_cast<std::size_t>(LZ4_compressBound(static_cast<int>(raw.size()))));
    const int m =
        LZ4_compress_default(reinterpret_cast<const char*>(raw.data()), again.data(),
                             static_cast<int>(raw.size()), static_cast<int>(again.size()));
    ASSERT_EQ(static_cast<std::size_t>(m), stored);
    EXPECT_TRUE(std::equal(again.begin(), again.begin() + m,
                           reinterpret_cast<const char*>(encoded.data() + pos)));
    pos += stored;
    done += count;
  }
  ASSERT_EQ(encoded.size() - pos, 4 * s);
  EXPECT_TRUE(std::equal(encoded.begin() + static_cast<std::ptrdiff_t>(pos), encoded.end(),
                         data.begin() + static_cast<std::ptrdiff_t>(done * s)));
}

std::vector<CodecSpec> round_trip_specs() {
  return {
      {.id = "bitshuffle"},
      {.id = "bitshuffle", .typesize = 2, .format = "zstd"},
      {.id = "bitshuffle", .typesize = 4, .block_size = 64},
      {.id = "bitshuffle", .typesize = 8, .format = "none"},
      {.id = "bitshuffle", .typesize = 3, .block_size = 16},
      {.id = "bitshuffle", .level = 1, .typesize = 16, .format = "zstd"},
      {.id = "bitshuffle", .typesize = 4, .block_size = 8, .format = "none"},
  };
}

TEST(Bitshuffle, RoundTripsEveryFormatAndShape) {
  for (const CodecSpec& spec : round_trip_specs()) {
    const auto codec = make_codec(spec);
    const auto s = static_cast<std::size_t>(codec->spec().typesize);
    SCOPED_TRACE(codec->spec().to_json().dump());
    for (std::size_t n : {0, 1, 7, 8, 9, 63, 64, 65, 1000, 20005}) {
      for (const auto& data :
           {smooth_bytes(n * s, n), random_bytes(n * s, n + 1), constant_bytes(n * s)}) {
        SCOPED_TRACE(::testing::Message() << n << " elements");
        const auto encoded = codec->encode(data);
        EXPECT_LE(encoded.size(), codec->max_encoded_size(data.size()));
        std::vector<std::byte> back(data.size(), std::byte{0xee});
        codec->decode(encoded, back);
        EXPECT_EQ(back, data);
        EXPECT_EQ(codec->decoded_size(encoded), data.size());
      }
    }
  }
}

TEST(Bitshuffle, CompressesSmoothDataBetterThanLz4Alone) {
  const auto data = smooth_bytes(1 << 20, 4);
  const auto shuffled = make_codec({.id = "bitshuffle", .typesize = 4})->encode(data);
  const auto plain = make_codec({.id = "lz4"})->encode(data);
  EXPECT_LT(shuffled.size(), plain.size());
  EXPECT_LT(make_codec({.id = "bitshuffle", .typesize = 4})->encode(constant_bytes(65536)).size(),
            65536u / 10);
}

TEST(Bitshuffle, EncodingPartialElementsIsRefused) {
  const auto codec = make_codec({.id = "bitshuffle", .typesize = 4});
  std::string why;
  EXPECT_EQ(error_of([&] { codec->encode(std::vector<std::byte>(10)); }, &why),
            ErrorCode::invalid_argument);
  EXPECT_NE(why.find("4-byte elements"), std::string::npos) << why;
}

// ---- damaged input ----------------------------------------------------------

void expect_corrupt(const Codec& codec, std::span<const std::byte> in, std::size_t out_size) {
  std::string why;
  std::vector<std::byte> out(out_size);
  EXPECT_EQ(error_of([&] { codec.decode(in, out); }, &why), ErrorCode::corrupt);
  EXPECT_NE(why.find("bitshuffle"), std::string::npos) << why;
}

TEST(Bitshuffle, DamagedChunksAreCorruptNeverACrash) {
  for (const CodecSpec& spec : round_trip_specs()) {
    const auto codec = make_codec(spec);
    const auto s = static_cast<std::size_t>(codec->spec().typesize);
    SCOPED_TRACE(codec->spec().to_json().dump());
    const auto data = smooth_bytes(s * 3001, 8);
    const auto encoded = codec->encode(data);
    for (std::size_t size : {std::size_t{0}, data.size() - s, data.size() + s, data.size() - 1}) {
      SCOPED_TRACE(size);
      expect_corrupt(*codec, encoded, size);
    }
    const std::size_t step = std::max<std::size_t>(1, encoded.size() / 300);
    for (std::size_t n = 0; n < encoded.size(); n += (n + 20 >= encoded.size() ? 1 : step)) {
      SCOPED_TRACE(::testing::Message() << "truncated to " << n);
      expect_corrupt(*codec, std::span(encoded).first(n), data.size());
    }
    auto longer = encoded;
    longer.push_back(std::byte{0});
    expect_corrupt(*codec, longer, data.size());

    std::mt19937_64 rng(5);
    for (int trial = 0; trial < 1500; ++trial) {
      auto damaged = encoded;
      damaged[rng() % damaged.size()] ^= static_cast<std::byte>(1u << (rng() % 8));
      const auto garbage = random_bytes(rng() % 200, rng());
      for (const auto& input : {damaged, garbage}) {
        std::vector<std::byte> out(input.size() == garbage.size() ? rng() % 400 : data.size());
        try {
          codec->decode(input, out);
        } catch (const Error& e) {
          ASSERT_EQ(e.code(), ErrorCode::corrupt) << e.what();
        }
      }
    }
  }
}

TEST(Bitshuffle, HeadersThatLieAreCorrupt) {
  const auto codec = make_codec({.id = "bitshuffle", .typesize = 4, .block_size = 64});
  const auto data = smooth_bytes(4 * 1001, 9);
  const auto encoded = codec->encode(data);
  for (std::uint64_t claim : {4000ull, 4008ull, 1ull << 40, ~0ull}) {
    SCOPED_TRACE(claim);
    auto lying = encoded;
    store_be(lying.data(), claim, 8);
    expect_corrupt(*codec, lying, data.size());
  }
  // Not whole elements, not a multiple of 8 elements, larger or smaller
  // than the blocks really are.
  for (std::uint32_t block : {6u, 4u, 36u, 128u, 512u, 0xfffffff0u}) {
    SCOPED_TRACE(block);
    auto lying = encoded;
    store_be(lying.data() + 8, block, 4);
    expect_corrupt(*codec, lying, data.size());
  }
  for (std::uint32_t length : {0u, 10u, 0x7fffffffu, 0xffffffffu}) {
    SCOPED_TRACE(length);
    auto lying = encoded;
    store_be(lying.data() + 12, length, 4);  // the first block's stored length
    expect_corrupt(*codec, lying, data.size());
  }
  auto no_leftover = encoded;
  no_leftover.pop_back();
  expect_corrupt(*codec, no_leftover, data.size());
}

TEST(Bitshuffle, AHeaderBlockSizeOfZeroIsTheDefault) {
  // bitshuffle's decoder reads 0 as its default block size; so does larder's.
  const auto codec = make_codec({.id = "bitshuffle", .typesize = 2});
  const auto data = smooth_bytes(2 * 10000, 10);
  auto encoded = codec->encode(data);
  store_be(encoded.data() + 8, 0, 4);
  std::vector<std::byte> back(data.size());
  codec->decode(encoded, back);
  EXPECT_EQ(back, data);
}

// ---- spec and HDF5 cd_values ------------------------------------------------

TEST(Bitshuffle, SpecFillsDefaultsAndDropsWhatItDoesNotUse) {
  EXPECT_EQ(make_codec({.id = "bitshuffle"})->spec(),
            (CodecSpec{.id = "bitshuffle", .typesize = 1, .block_size = 8192, .format = "lz4"}));
  // LZ4 runs at bitshuffle's fixed acceleration: a level is dropped, as is a shuffle.
  EXPECT_EQ(
      make_codec({.id = "bitshuffle", .level = 7, .shuffle = Shuffle::none, .typesize = 4})->spec(),
      (CodecSpec{.id = "bitshuffle", .typesize = 4, .block_size = 2048, .format = "lz4"}));
  EXPECT_EQ(make_codec({.id = "bitshuffle", .typesize = 8, .format = "zstd"})->spec().level, 3);
  EXPECT_EQ(make_codec({.id = "bitshuffle", .level = -2, .format = "zstd"})->spec().level, -2);
  EXPECT_EQ(make_codec({.id = "bitshuffle", .level = 4, .format = "none"})->spec().level, -1);
  for (const CodecSpec& spec : round_trip_specs()) {
    const CodecSpec made = make_codec(spec)->spec();
    EXPECT_EQ(CodecSpec::from_json(made.to_json()), made);
    EXPECT_EQ(make_codec(made)->spec(), made);
  }
}

TEST(Bitshuffle, SpecRejectsSettingsTheFilterCannotStore) {
  const std::vector<std::pair<CodecSpec, std::string>> bad = {
      {{.id = "bitshuffle", .typesize = 0}, "typesize 0"},
      {{.id = "bitshuffle", .block_size = 12}, "block_size 12"},
      {{.id = "bitshuffle", .typesize = 1 << 20, .block_size = 4096}, "block_size 4096"},
      {{.id = "bitshuffle", .format = "lz4hc"}, "'lz4hc'"},
      {{.id = "bitshuffle", .level = 99, .format = "zstd"}, "level 99"},
  };
  for (const auto& [spec, word] : bad) {
    std::string why;
    const CodecSpec& asked = spec;  // clang 14 cannot capture a structured binding
    EXPECT_EQ(error_of([&] { make_codec(asked); }, &why), ErrorCode::invalid_argument);
    EXPECT_NE(why.find(word), std::string::npos) << why;
  }
}

TEST(Bitshuffle, Hdf5CdValuesAreWhatTheFilterStores) {
  const auto lz4 = make_codec({.id = "bitshuffle", .typesize = 4});
  EXPECT_EQ(lz4->hdf5_filter(1 << 20).id, 32008u);
  EXPECT_EQ(lz4->hdf5_filter(1 << 20).name, "bitshuffle");
  EXPECT_EQ(lz4->hdf5_filter(1 << 20).cd_values, (std::vector<unsigned>{0, 4, 4, 2048, 2}));
  EXPECT_EQ(make_codec({.id = "bitshuffle", .level = 5, .typesize = 2, .format = "zstd"})
                ->hdf5_filter(100)
                .cd_values,
            (std::vector<unsigned>{0, 4, 2, 4096, 3, 5}));
  EXPECT_EQ(make_codec({.id = "bitshuffle", .typesize = 8, .block_size = 64, .format = "none"})
                ->hdf5_filter(100)
                .cd_values,
            (std::vector<unsigned>{0, 4, 8, 64, 0}));
  for (const CodecSpec& spec : round_trip_specs()) {
    const auto codec = make_codec(spec);
    const Hdf5Filter f = codec->hdf5_filter(1 << 20);
    EXPECT_EQ(CodecRegistry::builtin().spec_from_hdf5(f.id, f.cd_values), codec->spec());
  }
  std::string why;
  EXPECT_EQ(error_of([&] { (void)lz4->numcodecs_config(); }, &why), ErrorCode::unsupported);
  EXPECT_NE(why.find("bitshuffle"), std::string::npos) << why;
}

TEST(Bitshuffle, SpecFromHdf5ReadsWhatThePluginWrites) {
  const auto& registry = CodecRegistry::builtin();
  const auto from = [&](std::vector<unsigned> cd) { return registry.spec_from_hdf5(32008, cd); };
  // Plain bitshuffle, the default block: only the three set_local values.
  EXPECT_EQ(from({0, 4, 4}),
            (CodecSpec{.id = "bitshuffle", .typesize = 4, .block_size = 2048, .format = "none"}));
  EXPECT_EQ(from({0, 5, 4, 0, 2}), make_codec({.id = "bitshuffle", .typesize = 4})->spec());
  EXPECT_EQ(from({0, 5, 2, 256, 3}).level, 3);  // no level stored: zstd's default
  EXPECT_EQ(from({0, 5, 2, 256, 3, static_cast<unsigned>(-5)}).level, -5);
  std::string why;
  EXPECT_EQ(error_of([&] { from({0, 4, 4, 0, 1}); }, &why), ErrorCode::unsupported);
  EXPECT_NE(why.find("compression 1"), std::string::npos) << why;
  EXPECT_EQ(error_of([&] { from({0, 4}); }, &why), ErrorCode::invalid_argument);
  EXPECT_NE(why.find("32008"), std::string::npos) << why;
  EXPECT_EQ(error_of([&] { from({0, 4, 4, 12, 2}); }, &why), ErrorCode::invalid_argument);
  EXPECT_NE(why.find("block_size 12"), std::string::npos) << why;
  EXPECT_EQ(error_of([&] { from({0, 4, 0, 0, 2}); }, &why), ErrorCode::invalid_argument);
}

}  // namespace
}  // namespace larder::codec
