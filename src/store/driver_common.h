// What every store driver shares so that the same call gets the same
// answer whatever the format: path joining, and the checks of bad input
// with their error codes and messages. Each throws Error naming `file` (the
// store) and `path` (the node) and changes nothing. Stateless: safe from any
// thread.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "larder/core/array.h"
#include "larder/core/selection.h"
#include "larder/store/dataset.h"

namespace larder::store {

// Error(not_found) for member `name` missing from the group at `parent`,
// naming the members that exist.
Error missing_member(const std::string& parent, const std::string& name,
                     const std::vector<std::string>& members, const std::string& file);

// selection.resolve(shape), its errors (out_of_range, invalid_argument)
// naming the file and the dataset.
std::vector<ResolvedAxis> resolve_selection(const Selection& selection, const Shape& shape,
                                            const std::string& file, const std::string& path);

// Values to write to a selection of shape `wanted` of a dataset of `dtype`:
// Error(type_mismatch) for another dtype (either byte order is fine),
// Error(invalid_argument) for another shape (one element broadcasts).
void check_values(ArrayView values, const DType& dtype, const Shape& wanted,
                  const std::string& file, const std::string& path);

// Error(type_mismatch) for `what` ("read", "write", "append") on a dataset
// of variable-length strings, which read_strings/write_strings serve.
void require_fixed_size(const DType& dtype, std::string_view what, const std::string& file,
                        const std::string& path);

// Values that passed check_values for a selection of shape `wanted`,
// packed as `dtype` in C order and in `wanted`'s shape: the caller's memory
// when it already is (see packed_as), one value broadcast to fill it.
Array packed_for(ArrayView values, const DType& dtype, const Shape& wanted);

// How many rows `rows` appends to a dataset of `shape`: one for a row of
// shape()[1:], n for (n, *shape()[1:]); Error(invalid_argument) for a
// dataset that is not `extendable` and for rows of another shape.
std::int64_t rows_to_append(ArrayView rows, const Shape& shape, bool extendable,
                            const std::string& file, const std::string& path);

// Error(type_mismatch) for `what` ("read_strings", "write_strings") on a
// dataset whose dtype holds no strings (S<n> or vstring).
void require_strings(const DType& dtype, std::string_view what, const std::string& file,
                     const std::string& path);

// A resize from `from` to `to`: Error(invalid_argument) when the ranks
// differ or an axis changes that `resizable(axis)` does not allow.
void check_resize(const Shape& from, const Shape& to,
                  const std::function<bool(std::size_t axis)>& resizable, const std::string& file,
                  const std::string& path);

// What every driver checks of a new dataset's options before it creates
// anything: Error(invalid_argument) naming the file, the dataset and the
// value for an extendable scalar, an array of more than 2^60 bytes, or a
// fill value the dtype cannot hold; Error(unsupported) for `shuffle` in a
// driver without HDF5's shuffle filter. Returns the fill value's bytes.
std::vector<std::byte> check_new_dataset(const DatasetOptions& options, const std::string& file,
                                         const std::string& path, bool has_shuffle_filter = false);

// How far a chunk may reach: HDF5 (and the drivers that follow its rules)
// keeps chunks within the shape, axis 0 of an extendable dataset excepted;
// zarr allows any positive extent.
enum class ChunkBounds { within_shape, any };

// A chunk shape for a dataset created with `options`: one positive extent
// per axis, within `bounds`; Error(invalid_argument) naming the chunk shape
// otherwise.
void check_chunks(std::span<const std::int64_t> chunks, const DatasetOptions& options,
                  const std::string& file, const std::string& path,
                  ChunkBounds bounds = ChunkBounds::within_shape);

// Error(invalid_argument) unless `given` strings fill a selection of
// `wanted` elements.
void check_string_count(std::size_t given, std::int64_t wanted, const std::string& file,
                        const std::string& path);

}  // namespace larder::store
