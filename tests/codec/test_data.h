// Buffers and codec lists shared by the codec tests.
#pragma once

#include <cctype>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <ostream>
#include <random>
#include <span>
#include <string>
#include <vector>

#include <zstd.h>

#include "larder/codec/codec_spec.h"
#include "larder/core/endian.h"

namespace larder::codec::testing {

// A buffer written out byte by byte: bytes({0x80, 0, 1}).
inline std::vector<std::byte> bytes(std::initializer_list<int> values) {
  std::vector<std::byte> out;
  for (int v : values)
    out.push_back(static_cast<std::byte>(v));
  return out;
}

// A zstd frame as streaming compressors write it: without the content size
// (only decoding tells how long it is), optionally with a checksum.
inline std::vector<std::byte> zstd_frame_without_size(std::span<const std::byte> input,
                                                      bool checksum = false) {
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 0);
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, checksum ? 1 : 0);
  std::vector<std::byte> frame(ZSTD_compressBound(input.size()));
  const std::size_t n =
      ZSTD_compress2(cctx, frame.data(), frame.size(), input.data(), input.size());
  ZSTD_freeCCtx(cctx);
  frame.resize(ZSTD_isError(n) ? 0 : n);  // empty: the callers' checks fail
  return frame;
}

inline std::vector<std::byte> random_bytes(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::byte> bytes(n);
  for (auto& b : bytes)
    b = static_cast<std::byte>(rng() >> 56);
  return bytes;
}

inline std::vector<std::byte> constant_bytes(std::size_t n, std::byte value = std::byte{0x2a}) {
  return std::vector<std::byte>(n, value);
}

// Slowly varying little-endian int32 values with a little noise: what
// measurements look like, and what shuffling helps with.
inline std::vector<std::byte> smooth_bytes(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::byte> bytes(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint32_t value = static_cast<std::uint32_t>(100000 + (i / 4) * 3 + (rng() % 4));
    bytes[i] = static_cast<std::byte>(value >> (8 * (i % 4)));
  }
  return bytes;
}

inline std::span<const std::byte> as_bytes(const std::string& text) {
  return std::as_bytes(std::span(text.data(), text.size()));
}

// One spec of every codec, each with settings that touch its format's
// corners (several lz4 blocks, a gzip header, a bit shuffle).
inline std::vector<CodecSpec> one_of_each_codec() {
  return {
      {.id = "blosc-blosclz", .typesize = 4},
      {.id = "blosc-lz4", .typesize = 4},
      {.id = "blosc-lz4hc", .shuffle = Shuffle::bit, .typesize = 2},
      {.id = "blosc-zstd", .typesize = 8},
      {.id = "blosc-zlib", .shuffle = Shuffle::none},
      {.id = "zstd"},
      {.id = "lz4", .block_size = 1000},
      {.id = "lz4", .format = "numcodecs"},
      {.id = "gzip"},
      {.id = "gzip", .format = "gzip"},
      {.id = "none"},
  };
}

// A test name for gtest: letters, digits and underscores only.
inline std::string test_name(const CodecSpec& spec) {
  std::string name = spec.id;
  if (spec.id.starts_with("blosc-")) {
    name += "_" + std::string(to_string(spec.shuffle)) + "_t" + std::to_string(spec.typesize);
  }
  if (spec.level != -1) name += "_l" + std::to_string(spec.level);
  if (!spec.format.empty()) name += "_" + spec.format;
  if (spec.block_size != 0) name += "_b" + std::to_string(spec.block_size);
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

}  // namespace larder::codec::testing

namespace larder::codec {

// How gtest shows a CodecSpec parameter.
inline void PrintTo(const CodecSpec& spec, std::ostream* os) {
  *os << spec.to_json().dump();
}

}  // namespace larder::codec
