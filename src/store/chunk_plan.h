// ChunkPlan — which chunks of a chunked array a selection touches, and how
// each chunk's elements map to the caller's array.
//
// Built once per read or write from the resolved selection: per axis, the
// selected positions grouped by chunk, so that every chunk is visited once
// however the positions are ordered (an unsorted gather with repeats reads
// each chunk once). Driver-independent: the HDF5 and zarr drivers share it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "larder/core/selection.h"
#include "larder/core/shape.h"

namespace larder::store {

class ChunkPlan {
 public:
  // One selected position along an axis: index k in the caller's array,
  // index `local` inside the chunk.
  struct Pair {
    std::int64_t k;
    std::int64_t local;
  };
  // The positions of one axis that fall into one chunk along it.
  struct Group {
    std::int64_t chunk;  // chunk coordinate along the axis
    std::vector<Pair> pairs;
  };

  ChunkPlan(const std::vector<ResolvedAxis>& axes, const Shape& shape,
            std::span<const std::int64_t> chunk_shape);

  // Calls `visit(chunk coordinates, groups per axis)` for every touched chunk.
  void for_each_chunk(const std::function<void(std::span<const std::int64_t> coords,
                                               std::span<const Group* const> groups)>& visit) const;
  std::int64_t chunk_count() const noexcept { return chunk_count_; }

  // Copies between a decoded chunk (C order, chunk_shape) and the caller's
  // C-ordered array of the selection's result shape; `to_chunk` reverses it.
  void copy(std::span<const Group* const> groups, std::byte* chunk, std::byte* array,
            std::size_t item_size, bool to_chunk) const;
  // Whether `groups` cover every in-bounds element of the chunk at `coords`.
  bool covers(std::span<const std::int64_t> coords, std::span<const Group* const> groups) const;

 private:
  std::vector<std::vector<Group>> axes_;
  std::vector<std::int64_t> array_strides_;  // elements; 0 for dropped axes
  std::vector<std::int64_t> chunk_strides_;  // elements
  std::vector<std::int64_t> chunk_shape_;
  std::vector<std::int64_t> shape_;
  std::int64_t chunk_count_ = 1;
};

}  // namespace larder::store
