// larder's chunks are the C libraries' own bytes: each codec is checked
// against blosc, zstd, lz4 and zlib called directly, in both directions.
#include <blosc.h>
#include <gtest/gtest.h>
#include <lz4.h>
#include <zlib.h>
#include <zstd.h>

#include "codec/test_data.h"
#include "larder/codec/codec.h"
#include "larder/codec/registry.h"
#include "larder/core/error.h"

namespace larder::codec {
namespace {

using testing::random_bytes;
using testing::smooth_bytes;

std::vector<std::byte> decoded_by(const Codec& codec, std::span<const std::byte> in,
                                  std::size_t size) {
  std::vector<std::byte> out(size);
  codec.decode(in, out);
  return out;
}

const char* chars(const std::byte* p) {
  return reinterpret_cast<const char*>(p);
}
char* chars(std::byte* p) {
  return reinterpret_cast<char*>(p);
}

TEST(BloscInterop, LarderWritesWhatBloscWritesAndEachReadsTheOther) {
  const auto input = smooth_bytes(100003, 1);
  for (const char* cname : {"blosclz", "lz4", "lz4hc", "zstd", "zlib"}) {
    for (Shuffle shuffle : {Shuffle::none, Shuffle::byte, Shuffle::bit}) {
      for (int typesize : {1, 4, 8}) {
        SCOPED_TRACE(::testing::Message()
                     << cname << " shuffle " << to_string(shuffle) << " typesize " << typesize);
        const auto codec = make_codec({.id = std::string("blosc-") + cname,
                                       .level = 7,
                                       .shuffle = shuffle,
                                       .typesize = typesize});
        std::vector<std::byte> theirs(input.size() + BLOSC_MAX_OVERHEAD);
        const int n = blosc_compress_ctx(7, static_cast<int>(shuffle), typesize, input.size(),
                                         input.data(), theirs.data(), theirs.size(), cname, 0, 1);
        ASSERT_GT(n, 0);
        theirs.resize(static_cast<std::size_t>(n));

        const auto ours = codec->encode(input);
        EXPECT_EQ(ours, theirs);
        EXPECT_EQ(decoded_by(*codec, theirs, input.size()), input);

        std::vector<std::byte> back(input.size());
        EXPECT_EQ(blosc_decompress_ctx(ours.data(), back.data(), back.size(), 1),
                  static_cast<int>(input.size()));
        EXPECT_EQ(back, input);
      }
    }
  }
}

TEST(BloscInterop, AnyBloscCodecReadsAnyBloscFrame) {
  // The frame header names its compressor, so the reading codec's own
  // settings do not matter.
  const auto input = smooth_bytes(5000, 2);
  const auto written = make_codec({.id = "blosc-zstd", .shuffle = Shuffle::bit, .typesize = 8});
  const auto reader = make_codec({.id = "blosc-lz4"});
  EXPECT_EQ(decoded_by(*reader, written->encode(input), input.size()), input);
}

TEST(ZstdInterop, FramesGoBothWays) {
  const auto input = smooth_bytes(250000, 3);
  for (int level : {-3, 1, 3, 10}) {
    SCOPED_TRACE(level);
    const auto codec = make_codec({.id = "zstd", .level = level});
    std::vector<std::byte> theirs(ZSTD_compressBound(input.size()));
    const std::size_t n =
        ZSTD_compress(theirs.data(), theirs.size(), input.data(), input.size(), level);
    ASSERT_FALSE(ZSTD_isError(n));
    theirs.resize(n);

    const auto ours = codec->encode(input);
    EXPECT_EQ(ours, theirs);
    EXPECT_EQ(decoded_by(*codec, theirs, input.size()), input);
    EXPECT_EQ(codec->decoded_size(theirs), input.size());

    std::vector<std::byte> back(input.size());
    EXPECT_EQ(ZSTD_decompress(back.data(), back.size(), ours.data(), ours.size()), input.size());
    EXPECT_EQ(back, input);
  }
}

TEST(ZstdInterop, ReadsStreamedFramesWithChecksums) {
  const auto input = smooth_bytes(400000, 4);
  const auto frame = testing::zstd_frame_without_size(input, true);
  ASSERT_FALSE(frame.empty());

  const auto codec = make_codec({.id = "zstd"});
  EXPECT_EQ(codec->decoded_size(frame), std::nullopt);
  EXPECT_EQ(decoded_by(*codec, frame, input.size()), input);
}

// HDF5's lz4 filter (32004) framing, built here from its description.
std::vector<std::byte> hdf5_lz4_by_hand(std::span<const std::byte> input, std::size_t block) {
  std::vector<std::byte> out;
  const auto put_be = [&](std::uint64_t v, int n) {
    for (int i = n - 1; i >= 0; --i)
      out.push_back(static_cast<std::byte>(v >> (8 * i)));
  };
  put_be(input.size(), 8);
  put_be(block, 4);
  for (std::size_t done = 0; done < input.size(); done += block) {
    const std::size_t raw = std::min(block, input.size() - done);
    std::vector<std::byte> compressed(
        static_cast<std::size_t>(LZ4_compressBound(static_cast<int>(raw))));
    const int n = LZ4_compress_default(chars(input.data() + done), chars(compressed.data()),
                                       static_cast<int>(raw), static_cast<int>(compressed.size()));
    if (static_cast<std::size_t>(n) >= raw) {  // the filter stores such blocks raw
      put_be(raw, 4);
      out.insert(out.end(), input.begin() + static_cast<std::ptrdiff_t>(done),
                 input.begin() + static_cast<std::ptrdiff_t>(done + raw));
    } else {
      put_be(static_cast<std::uint64_t>(n), 4);
      out.insert(out.end(), compressed.begin(), compressed.begin() + n);
    }
  }
  return out;
}

TEST(Lz4Interop, Hdf5FramingWithCompressedAndRawBlocks) {
  // Three compressible blocks, then two random ones that LZ4 cannot shrink.
  auto input = smooth_bytes(3 * 4096, 5);
  const auto noise = random_bytes(4096 + 100, 6);
  input.insert(input.end(), noise.begin(), noise.end());
  const auto theirs = hdf5_lz4_by_hand(input, 4096);

  const auto codec = make_codec({.id = "lz4", .block_size = 4096});
  EXPECT_EQ(decoded_by(*codec, theirs, input.size()), input);
  EXPECT_EQ(codec->encode(input), theirs);
}

TEST(Lz4Interop, Hdf5FramingDefaultsToOneBlock) {
  const auto input = smooth_bytes(70000, 7);
  const auto codec = make_codec({.id = "lz4"});
  EXPECT_EQ(codec->encode(input), hdf5_lz4_by_hand(input, input.size()));
}

TEST(Lz4Interop, NumcodecsFramingIsALittleEndianSizeAndOneBlock) {
  const auto input = smooth_bytes(70001, 8);
  for (int acceleration : {1, 5}) {
    std::vector<std::byte> theirs(4 + static_cast<std::size_t>(LZ4_compressBound(70001)));
    for (int i = 0; i < 4; ++i)
      theirs[i] = static_cast<std::byte>(input.size() >> (8 * i));
    const int n = LZ4_compress_fast(chars(input.data()), chars(theirs.data() + 4), 70001,
                                    static_cast<int>(theirs.size() - 4), acceleration);
    ASSERT_GT(n, 0);
    theirs.resize(4 + static_cast<std::size_t>(n));

    const auto codec = make_codec({.id = "lz4", .level = acceleration, .format = "numcodecs"});
    EXPECT_EQ(codec->encode(input), theirs);
    EXPECT_EQ(decoded_by(*codec, theirs, input.size()), input);
    EXPECT_EQ(codec->decoded_size(theirs), input.size());
  }
}

TEST(ZlibInterop, Compress2OutputIsTheZlibFormat) {
  const auto input = smooth_bytes(300000, 9);
  for (int level : {0, 1, 6, 9}) {
    SCOPED_TRACE(level);
    uLongf n = compressBound(input.size());
    std::vector<std::byte> theirs(n);
    ASSERT_EQ(compress2(reinterpret_cast<Bytef*>(theirs.data()), &n,
                        reinterpret_cast<const Bytef*>(input.data()), input.size(), level),
              Z_OK);
    theirs.resize(n);

    const auto codec = make_codec({.id = "gzip", .level = level});
    EXPECT_EQ(codec->encode(input), theirs);
    EXPECT_EQ(decoded_by(*codec, theirs, input.size()), input);

    const auto ours = codec->encode(input);
    uLongf back_size = input.size();
    std::vector<std::byte> back(input.size());
    ASSERT_EQ(uncompress(reinterpret_cast<Bytef*>(back.data()), &back_size,
                         reinterpret_cast<const Bytef*>(ours.data()), ours.size()),
              Z_OK);
    EXPECT_EQ(back, input);
  }
}

std::vector<std::byte> deflate_with(std::span<const std::byte> input, int window_bits) {
  z_stream s{};
  EXPECT_EQ(deflateInit2(&s, 6, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::vector<std::byte> out(deflateBound(&s, input.size()));
  s.next_in = const_cast<Bytef*>(reinterpret_cast<const Bytef*>(input.data()));
  s.avail_in = static_cast<uInt>(input.size());
  s.next_out = reinterpret_cast<Bytef*>(out.data());
  s.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&s, Z_FINISH), Z_STREAM_END);
  out.resize(s.total_out);
  deflateEnd(&s);
  return out;
}

std::vector<std::byte> inflate_with(std::span<const std::byte> input, std::size_t size,
                                    int window_bits) {
  z_stream s{};
  EXPECT_EQ(inflateInit2(&s, window_bits), Z_OK);
  std::vector<std::byte> out(size);
  s.next_in = const_cast<Bytef*>(reinterpret_cast<const Bytef*>(input.data()));
  s.avail_in = static_cast<uInt>(input.size());
  s.next_out = reinterpret_cast<Bytef*>(out.data());
  s.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(inflate(&s, Z_FINISH), Z_STREAM_END);
  inflateEnd(&s);
  return out;
}

TEST(ZlibInterop, GzipFormatIsRfc1952) {
  const auto input = smooth_bytes(50000, 10);
  const auto codec = make_codec({.id = "gzip", .format = "gzip"});
  const auto ours = codec->encode(input);
  ASSERT_GE(ours.size(), 18u);
  EXPECT_EQ(ours[0], std::byte{0x1f});  // gzip magic
  EXPECT_EQ(ours[1], std::byte{0x8b});
  EXPECT_EQ(inflate_with(ours, input.size(), 16 + MAX_WBITS), input);

  const auto theirs = deflate_with(input, 16 + MAX_WBITS);
  EXPECT_EQ(decoded_by(*codec, theirs, input.size()), input);
  EXPECT_EQ(codec->decoded_size(theirs), std::nullopt);
}

TEST(ZlibInterop, TheTwoWrappersDoNotReadEachOther) {
  const auto input = smooth_bytes(1000, 11);
  const auto zlib = make_codec({.id = "gzip"});
  const auto gzip = make_codec({.id = "gzip", .format = "gzip"});
  std::vector<std::byte> out(input.size());
  EXPECT_THROW(zlib->decode(gzip->encode(input), out), Error);
  EXPECT_THROW(gzip->decode(zlib->encode(input), out), Error);
}

}  // namespace
}  // namespace larder::codec
