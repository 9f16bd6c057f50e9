// What every decoder fuzz target does, and which codec each one drives.
//
// An input is a little-endian uint32 expected decoded size (taken modulo
// kMaxDecoded + 1, so no input makes the target allocate much), then the
// bytes to decode. Decoding must succeed or throw larder::Error; any other
// exception escapes and libFuzzer reports it. A successful decode must also
// survive a re-encode round trip.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "larder/codec/codec.h"
#include "larder/codec/registry.h"
#include "larder/core/error.h"

namespace larder::fuzz {

inline constexpr std::size_t kMaxDecoded = std::size_t{1} << 20;

struct DecodeTarget {
  std::string_view name;  // the fuzz target is fuzz_decode_<name>
  codec::CodecSpec spec;
};

inline const std::vector<DecodeTarget>& decode_targets() {
  static const std::vector<DecodeTarget> targets = {
      {"blosc", {.id = "blosc-lz4", .typesize = 4}},
      {"zstd", {.id = "zstd"}},
      {"lz4_hdf5", {.id = "lz4", .block_size = 4096, .format = "hdf5"}},
      {"lz4_numcodecs", {.id = "lz4", .format = "numcodecs"}},
      {"gzip_zlib", {.id = "gzip", .format = "zlib"}},
      {"gzip_gzip", {.id = "gzip", .format = "gzip"}},
      {"lzf", {.id = "lzf"}},
      // Small blocks, so that short inputs already hold several.
      {"bitshuffle_lz4", {.id = "bitshuffle", .typesize = 4, .block_size = 64, .format = "lz4"}},
      {"bitshuffle_zstd", {.id = "bitshuffle", .typesize = 2, .block_size = 32, .format = "zstd"}},
  };
  return targets;
}

inline std::unique_ptr<codec::Codec> codec_for(std::string_view name) {
  for (const auto& t : decode_targets()) {
    if (t.name == name) return codec::make_codec(t.spec);
  }
  std::abort();
}

// The fuzz input for `encoded`, which decodes to `decoded_size` bytes.
inline std::vector<std::uint8_t> fuzz_input(std::size_t decoded_size,
                                            std::span<const std::byte> encoded) {
  std::vector<std::uint8_t> input(4);
  for (int i = 0; i < 4; ++i)
    input[i] = static_cast<std::uint8_t>(decoded_size >> (8 * i));
  for (std::byte b : encoded)
    input.push_back(std::to_integer<std::uint8_t>(b));
  return input;
}

inline int decode_one(const codec::Codec& codec, const std::uint8_t* data, std::size_t size) {
  std::size_t expected = 0;
  if (size >= 4) {
    const std::uint32_t claimed =
        static_cast<std::uint32_t>(data[0]) | static_cast<std::uint32_t>(data[1]) << 8 |
        static_cast<std::uint32_t>(data[2]) << 16 | static_cast<std::uint32_t>(data[3]) << 24;
    expected = claimed % (kMaxDecoded + 1);
    data += 4;
    size -= 4;
  }
  const auto in = std::as_bytes(std::span(data, size));
  try {
    (void)codec.decoded_size(in);
  } catch (const Error&) {
  }
  std::vector<std::byte> out(expected);
  try {
    codec.decode(in, out);
  } catch (const Error&) {
    return 0;
  }
  const auto declared = codec.decoded_size(in);
  if (declared && *declared != expected) std::abort();  // decoded, yet declares another size
  std::vector<std::byte> again(expected);
  codec.decode(codec.encode(out), again);
  if (again != out) std::abort();
  return 0;
}

}  // namespace larder::fuzz

// Defines the libFuzzer entry point of the decoder target `name`.
#define LARDER_DECODE_FUZZER(name)                                                    \
  extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) { \
    static const auto codec = larder::fuzz::codec_for(name);                          \
    return larder::fuzz::decode_one(*codec, data, size);                              \
  }
