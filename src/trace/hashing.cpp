#include "hashing.h"

#include <algorithm>

#include "larder/core/array.h"
#include "larder/core/hash.h"

namespace larder::trace {
namespace {

Hasher started(std::string_view kind, const DType& dtype, const Shape& shape) {
  Hasher hasher;
  hasher.update(kind).update("|").update(dtype.native().numpy_str()).update("|");
  hasher.update(shape.to_string()).update("|");
  return hasher;
}

constexpr std::size_t block_bytes = std::size_t{8} << 20;

}  // namespace

std::string hash_values(ArrayView values, std::string_view kind) {
  Hasher hasher = started(kind, values.dtype(), values.shape());
  const Array packed = packed_as(values, values.dtype().native());
  hasher.update(packed.bytes());
  return hasher.digest128().hex();
}

std::string hash_dataset(store::Dataset& dataset, std::string_view kind) {
  const Shape shape = dataset.shape();
  Hasher hasher = started(kind, dataset.dtype(), shape);
  if (shape.rank() == 0) {
    const Array all = dataset.read();
    hasher.update(packed_as(all, all.dtype().native()).bytes());
    return hasher.digest128().hex();
  }
  const std::int64_t rows = shape[0];
  const std::size_t row_bytes = std::max<std::size_t>(
      1, static_cast<std::size_t>(shape.num_elements() / std::max<std::int64_t>(rows, 1)) *
             dataset.dtype().item_size());
  const auto step = static_cast<std::int64_t>(std::max<std::size_t>(1, block_bytes / row_bytes));
  for (std::int64_t start = 0; start < rows; start += step) {
    const Array block =
        dataset.read(Selection{AxisSelection::slice(start, std::min(rows, start + step), 1)});
    hasher.update(packed_as(block, block.dtype().native()).bytes());
  }
  return hasher.digest128().hex();
}

}  // namespace larder::trace
