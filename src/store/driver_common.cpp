#include "driver_common.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cstring>

#include "larder/core/error.h"
#include "larder/store/element_json.h"

namespace larder::store {

Error missing_member(const std::string& parent, const std::string& name,
                     const std::vector<std::string>& members, const std::string& file) {
  return Error(ErrorCode::not_found,
               fmt::format("no member '{}' in group {} (members: {})", name, parent,
                           members.empty() ? "none" : fmt::format("{}", fmt::join(members, ", "))),
               file, join_path(parent, name));
}

std::vector<ResolvedAxis> resolve_selection(const Selection& selection, const Shape& shape,
                                            const std::string& file, const std::string& path) {
  try {
    return selection.resolve(shape);
  } catch (const Error& e) {
    throw e.at(file, path);
  }
}

void check_values(ArrayView values, const DType& dtype, const Shape& wanted,
                  const std::string& file, const std::string& path) {
  if (values.dtype().native() != dtype.native()) {
    throw Error(ErrorCode::type_mismatch,
                fmt::format("values of dtype {} for a dataset of dtype {}", values.dtype().name(),
                            dtype.name()),
                file, path);
  }
  if (values.shape() != wanted && values.num_elements() != 1) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("values of shape {} for a selection of shape {}",
                            values.shape().to_string(), wanted.to_string()),
                file, path);
  }
}

void require_fixed_size(const DType& dtype, std::string_view what, const std::string& file,
                        const std::string& path) {
  if (!dtype.is_fixed_size()) {
    throw Error(ErrorCode::type_mismatch,
                fmt::format("{} on a dataset of variable-length strings: use {}_strings", what,
                            what == "read" ? "read" : "write"),
                file, path);
  }
}

Array packed_for(ArrayView values, const DType& dtype, const Shape& wanted) {
  Array packed = packed_as(values, dtype);
  if (packed.num_elements() == wanted.num_elements()) return std::move(packed).reshaped(wanted);
  Array full = Array::empty(dtype, wanted);  // one value, broadcast
  put(full.mutable_view(), Selection(), packed);
  return full;
}

void require_strings(const DType& dtype, std::string_view what, const std::string& file,
                     const std::string& path) {
  if (dtype.kind() != DTypeKind::string && dtype.kind() != DTypeKind::vstring) {
    throw Error(ErrorCode::type_mismatch,
                fmt::format("{} on a dataset of dtype {}", what, dtype.name()), file, path);
  }
}

std::int64_t rows_to_append(ArrayView rows, const Shape& shape, bool extendable,
                            const std::string& file, const std::string& path) {
  if (!extendable) {
    throw Error(ErrorCode::invalid_argument,
                "append needs an extendable dataset (created with extendable=true; in HDF5, "
                "maxshape None along axis 0)",
                file, path);
  }
  const Shape row_shape = shape.without_first();
  if (rows.shape() == row_shape) return 1;
  if (rows.rank() == shape.rank() && rows.shape().without_first() == row_shape)
    return rows.shape()[0];
  throw Error(ErrorCode::invalid_argument,
              fmt::format("cannot append rows of shape {} to a dataset of shape {}",
                          rows.shape().to_string(), shape.to_string()),
              file, path);
}

void check_resize(const Shape& from, const Shape& to,
                  const std::function<bool(std::size_t axis)>& resizable, const std::string& file,
                  const std::string& path) {
  if (to.rank() != from.rank()) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("cannot resize a dataset of shape {} to {}: ranks differ",
                            from.to_string(), to.to_string()),
                file, path);
  }
  for (std::size_t a = 0; a < to.rank(); ++a) {
    if (to[a] != from[a] && !resizable(a)) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("axis {} of this dataset cannot change size (from {} to {})", a,
                              from[a], to[a]),
                  file, path);
    }
  }
}

std::vector<std::byte> check_new_dataset(const DatasetOptions& options, const std::string& file,
                                         const std::string& path, bool has_shuffle_filter) {
  if (options.shuffle && !has_shuffle_filter) {
    throw Error(ErrorCode::unsupported,
                "a shuffle filter before the codec is HDF5's; this store cannot keep one (blosc "
                "codecs shuffle inside their frames: codec='blosc-lz4')",
                file, path);
  }
  if (options.extendable && options.shape.rank() == 0) {
    throw Error(ErrorCode::invalid_argument, "a scalar dataset cannot be extendable", file, path);
  }
  constexpr double kMaxBytes = static_cast<double>(std::uint64_t{1} << 60);
  if (static_cast<double>(options.shape.num_elements()) *
          static_cast<double>(options.dtype.item_size()) >
      kMaxBytes) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("an array of shape {} and dtype {} would hold more than 2^60 bytes",
                            options.shape.to_string(), options.dtype.name()),
                file, path);
  }
  try {
    return element_from_json(options.dtype, options.fill_value);
  } catch (const Error& e) {
    throw e.at(file, path);
  }
}

void check_chunks(std::span<const std::int64_t> chunks, const DatasetOptions& options,
                  const std::string& file, const std::string& path, ChunkBounds bounds) {
  if (chunks.size() != options.shape.rank()) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("chunk shape ({}) does not match the rank of shape {}",
                            fmt::join(chunks, ", "), options.shape.to_string()),
                file, path);
  }
  for (std::size_t a = 0; a < chunks.size(); ++a) {
    const bool too_big = bounds == ChunkBounds::within_shape && !(a == 0 && options.extendable) &&
                         chunks[a] > std::max<std::int64_t>(options.shape[a], 1);
    if (chunks[a] <= 0 || too_big) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("chunk shape ({}) has extent {} on axis {} (shape {})",
                              fmt::join(chunks, ", "), chunks[a], a, options.shape.to_string()),
                  file, path);
    }
  }
}

void check_string_count(std::size_t given, std::int64_t wanted, const std::string& file,
                        const std::string& path) {
  if (static_cast<std::int64_t>(given) != wanted) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("{} strings given for a selection of {} elements", given, wanted), file,
                path);
  }
}

}  // namespace larder::store
