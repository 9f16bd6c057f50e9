// zarr v2 metadata (docs/formats/zarr.md): an array's .zarray parsed from
// text and written back, fill values both ways, chunk keys, and the JSON
// that zarr-python writes (Python's bare NaN / Infinity tokens included).
//
// parse_array_metadata() is the one place untrusted .zarray bytes are read:
// every field is checked (types, signs, chunk size and count overflow) and
// anything wrong is Error(corrupt) naming the file and the value, or
// Error(unsupported) for valid zarr that larder does not read (a structured
// dtype, an unknown compressor, filters). Value types, no shared state:
// thread-safe.
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "larder/codec/codec_spec.h"
#include "larder/core/dtype.h"
#include "larder/core/shape.h"

namespace larder::store::zarr {

// Decoded chunks larder reads or writes: at most this many bytes (blosc,
// zarr's default compressor, cannot hold more in one chunk).
constexpr std::uint64_t kMaxChunkBytes = std::uint64_t{1} << 31;

struct ArrayMetadata {
  DType dtype = DType::float64();  // in the file's byte order
  Shape shape;
  std::vector<std::int64_t> chunks;  // one per axis; empty for a 0-d array
  codec::CodecSpec codec;            // reads the chunk files ("none": raw)
  bool fortran_order = false;        // "order": "F"
  char separator = '.';              // "dimension_separator"
  std::vector<std::byte> fill;       // one element in the file's byte order; zeros for null
  // The whole .zarray as read (or made): written back with only "shape"
  // changed, so that keys larder does not interpret survive a resize.
  nlohmann::json document;

  std::int64_t chunk_elements() const;
  std::size_t chunk_bytes() const {
    return static_cast<std::size_t>(chunk_elements()) * dtype.item_size();
  }
  // Chunks along each axis (ceil(shape / chunks)).
  std::vector<std::int64_t> grid() const;
};

// Error(corrupt) naming `file` for JSON that does not parse, a missing key
// or a value of the wrong type; Error(unsupported) for zarr features larder
// does not read.
ArrayMetadata parse_array_metadata(std::string_view text, const std::string& file);
// The .zarray text of `meta` (its document with the current shape).
std::string format_array_metadata(const ArrayMetadata& meta);

// A new array's metadata: C order, `compressor` the numcodecs config of its
// codec (null for none), fill_value from `fill` (one element, file order).
ArrayMetadata new_array_metadata(const DType& dtype, const Shape& shape,
                                 std::vector<std::int64_t> chunks, const codec::CodecSpec& codec,
                                 const nlohmann::json& compressor, std::vector<std::byte> fill,
                                 char separator);

// zarr's "fill_value" of one element (file byte order): null, a number,
// "NaN" / "Infinity" / "-Infinity", [re, im] for complex, base64 for S.
nlohmann::json fill_to_zarr(const DType& dtype, std::span<const std::byte> element);
// One element (file byte order) from zarr's "fill_value"; zeros for null.
// Error(corrupt) naming the value for one the dtype cannot hold.
std::vector<std::byte> fill_from_zarr(const DType& dtype, const nlohmann::json& value);

// JSON as zarr-python writes it, where NaN and infinities are the bare
// tokens NaN, Infinity and -Infinity. Error(corrupt) naming `file` for text
// that does not parse.
nlohmann::json parse_json(std::string_view text, const std::string& file);
// Indented by 4, keys sorted, ASCII only, NaN and infinities as bare
// tokens: what zarr-python writes.
std::string dump_json(const nlohmann::json& value);

// "1.0.3" (separator '.') or "1/0/3"; "0" for a 0-d array.
std::string chunk_key(std::span<const std::int64_t> coords, char separator);
// The coordinates a key names, if it is a chunk key of an array of `rank`.
std::optional<std::vector<std::int64_t>> parse_chunk_key(std::string_view key, std::size_t rank,
                                                         char separator);

}  // namespace larder::store::zarr
