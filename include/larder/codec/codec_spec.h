// CodecSpec — which codec, with which settings; the JSON-able identity of a codec.
//
// A value type. It round-trips through JSON ({"id": "blosc-lz4", "level": 5,
// "shuffle": "byte", "typesize": 4}) and through the short text form the CLI
// takes ("blosc-lz4", "zstd:3", "blosc-zstd:5:bit"). Settings a codec does
// not use keep their defaults and are left out of its JSON.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace larder::codec {

enum class Shuffle { none, byte, bit };

std::string_view to_string(Shuffle shuffle) noexcept;

struct CodecSpec {
  std::string id = "none";
  int level = -1;                   // -1: the codec's default level
  Shuffle shuffle = Shuffle::byte;  // blosc-* only
  int typesize = 1;                 // element size the shuffle works on (blosc-*)
  std::size_t block_size = 0;       // 0: the codec's default (blosc blocksize, lz4-hdf5 block)
  // Byte framing, for codecs whose bytes differ between HDF5 and numcodecs:
  //   lz4:  "hdf5" (filter 32004: BE sizes + blocks, default) | "numcodecs" (LE size + block)
  //   gzip: "zlib" (RFC 1950: HDF5 deflate, numcodecs zlib, default) | "gzip" (RFC 1952)
  std::string format{};  // {}: designated initializers may omit it without a warning

  // Throws Error(invalid_argument) naming the field and value.
  static CodecSpec from_json(const nlohmann::json& json);
  // Accepts JSON text or "id[:level[:shuffle]]".
  static CodecSpec parse(std::string_view text);
  nlohmann::json to_json() const;
  // The short text form: "blosc-lz4:5:byte".
  std::string to_string() const;
  // Whether the codec shuffles inside its own frames (blosc-*, bitshuffle):
  // `shuffle` and `typesize` are then its settings; other codecs ignore them.
  bool shuffles_itself() const;

  friend bool operator==(const CodecSpec&, const CodecSpec&) = default;
};

}  // namespace larder::codec
