// Codec — encodes and decodes one chunk of bytes.
//
// A Codec is immutable once made and all its methods are const and
// thread-safe: one instance serves every thread. It knows how HDF5 (filter
// id + cd_values) and zarr (numcodecs config) name the bytes it writes, so
// a chunk it encodes can be stored directly into either format and read by
// their own tools. decode() treats its input as untrusted: malformed,
// truncated or oversized input gives Error(corrupt), never a crash and never
// an allocation beyond the expected size.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "larder/codec/codec_spec.h"

namespace larder::codec {

// One entry of an HDF5 filter pipeline.
struct Hdf5Filter {
  unsigned id = 0;  // 0: no filter (the "none" codec)
  std::string name;
  std::vector<unsigned> cd_values;
};

class Codec {
 public:
  virtual ~Codec() = default;
  Codec(const Codec&) = delete;
  Codec& operator=(const Codec&) = delete;

  const CodecSpec& spec() const noexcept { return spec_; }

  // Upper bound of encode_into's output for `n` input bytes.
  virtual std::size_t max_encoded_size(std::size_t n) const = 0;
  // Encodes `in` into `out` (at least max_encoded_size(in.size()) bytes);
  // returns the encoded length.
  virtual std::size_t encode_into(std::span<const std::byte> in,
                                  std::span<std::byte> out) const = 0;
  // Decodes `in` into exactly `out.size()` bytes; Error(corrupt) when `in`
  // does not decode to exactly that many.
  virtual void decode(std::span<const std::byte> in, std::span<std::byte> out) const = 0;
  // The decoded size `in` declares in its header, if its format has one.
  // Error(corrupt) when the header is malformed.
  virtual std::optional<std::size_t> decoded_size(std::span<const std::byte> in) const = 0;

  // The HDF5 filter that reads these bytes. `chunk_bytes` is the chunk's
  // decoded size (blosc records it in cd_values). Error(unsupported) when
  // HDF5 has no filter for this codec's format.
  virtual Hdf5Filter hdf5_filter(std::size_t chunk_bytes) const = 0;
  // The numcodecs compressor config that reads these bytes (zarr's
  // "compressor"); JSON null for "none". Error(unsupported) when numcodecs
  // has none.
  virtual nlohmann::json numcodecs_config() const = 0;

  // Convenience: encode into a fresh, exactly sized buffer.
  std::vector<std::byte> encode(std::span<const std::byte> in) const;

 protected:
  explicit Codec(CodecSpec spec) : spec_(std::move(spec)) {}

 private:
  CodecSpec spec_;
};

}  // namespace larder::codec
