// ChunkPlan — which chunks of a chunked array a selection touches, and how
// each chunk's elements map to the caller's array.
//
// Built once per read or write from the resolved selection: per axis, the
// selected positions grouped by chunk, so that every chunk is visited once
// however the positions are ordered (an unsorted gather with repeats reads
// each chunk once). Per chunk, the elements move in runs that are
// consecutive on both sides, each one memcpy or pread. Driver-independent:
// the HDF5 and zarr drivers share it. Immutable once built: safe to use from
// several threads. default_chunks() is the chunk shape drivers choose when
// the caller names none.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <vector>

#include "larder/core/selection.h"
#include "larder/core/shape.h"
#include "larder/store/dataset.h"

namespace larder::store {

// Whole rows, about 1 MiB per chunk; for a dataset that is not extendable,
// no more rows than it has.
std::vector<std::int64_t> default_chunks(const DatasetOptions& options);

class ChunkPlan {
 public:
  // One selected position along an axis: index k in the caller's array,
  // index `local` inside the chunk.
  struct Pair {
    std::int64_t k;
    std::int64_t local;
  };
  // The positions of one axis that fall into one chunk along it: listed
  // one by one, or, for an ascending slice, as a pattern (k = first.k + i,
  // local = first.local + i * step), so a slice of millions of positions
  // costs nothing to plan.
  struct Group {
    std::int64_t chunk;       // chunk coordinate along the axis
    std::vector<Pair> pairs;  // listed positions; empty for a pattern
    bool consecutive = true;  // each pair is the previous one's next on both sides
    std::int64_t count = 0;   // a pattern's positions
    Pair first{};
    std::int64_t step = 1;

    std::size_t size() const noexcept {
      return pairs.empty() ? static_cast<std::size_t>(count) : pairs.size();
    }
    Pair at(std::size_t i) const noexcept {
      if (!pairs.empty()) return pairs[i];
      const auto n = static_cast<std::int64_t>(i);
      return {first.k + n, first.local + n * step};
    }
  };

  ChunkPlan(const std::vector<ResolvedAxis>& axes, const Shape& shape,
            std::span<const std::int64_t> chunk_shape);

  // Calls `visit(chunk coordinates, groups per axis)` for every touched chunk.
  void for_each_chunk(const std::function<void(std::span<const std::int64_t> coords,
                                               std::span<const Group* const> groups)>& visit) const;
  std::int64_t chunk_count() const noexcept { return chunk_count_; }

  // Elements consecutive both in the chunk (C order, chunk_shape) and in the
  // caller's C-ordered array of the selection's result shape; in elements.
  struct Run {
    std::int64_t chunk;  // offset in the chunk
    std::int64_t array;  // offset in the caller's array
    std::int64_t count;
    bool operator==(const Run&) const = default;
  };
  // Calls `visit(Run)` for the elements `groups` select from one chunk, as
  // few runs as both layouts allow: trailing axes selected whole fold into
  // one block, and consecutive positions along the next axis join it. A
  // chunk that lands whole on one stretch of the array is a single run.
  template <class Visit>
  void for_each_run(std::span<const Group* const> groups, Visit&& visit) const;
  // The single run that is the whole chunk, when the selection maps every
  // element of the chunk, in order, onto one stretch of the array.
  std::optional<Run> whole_chunk(std::span<const Group* const> groups) const;

  // Copies between a decoded chunk (C order, chunk_shape) and the caller's
  // C-ordered array of the selection's result shape; `to_chunk` reverses it.
  void copy(std::span<const Group* const> groups, std::byte* chunk, std::byte* array,
            std::size_t item_size, bool to_chunk) const;
  // Whether `groups` cover every in-bounds element of the chunk at `coords`.
  bool covers(std::span<const std::int64_t> coords, std::span<const Group* const> groups) const;

 private:
  // Axes [inner, rank) of a chunk's selection folded into one block of
  // `block` elements, consecutive in both layouts, at the given offsets.
  struct Folded {
    std::size_t inner;
    std::int64_t block;
    std::int64_t chunk_base;
    std::int64_t array_base;
  };
  Folded fold(std::span<const Group* const> groups) const;
  // The positions `axis` selects, grouped by chunk in chunk order.
  static void group_axis(const ResolvedAxis& axis, std::int64_t chunk_extent, std::int64_t extent,
                         std::vector<Group>& groups);

  std::vector<std::vector<Group>> axes_;
  std::vector<std::int64_t> array_strides_;  // elements; 0 for dropped axes
  std::vector<std::int64_t> chunk_strides_;  // elements
  std::vector<std::int64_t> chunk_shape_;
  std::vector<std::int64_t> shape_;
  std::int64_t chunk_count_ = 1;
};

template <class Visit>
void ChunkPlan::for_each_run(std::span<const Group* const> groups, Visit&& visit) const {
  const Folded f = fold(groups);
  if (f.inner == 0) {
    visit(Run{f.chunk_base, f.array_base, f.block});
    return;
  }
  // Axis `last` is the innermost one left: its positions join into runs of
  // blocks where they are consecutive on both sides; outer axes recurse.
  const std::size_t last = f.inner - 1;
  const bool joinable = chunk_strides_[last] == f.block && array_strides_[last] == f.block;
  auto recurse = [&](auto&& self, std::size_t a, std::int64_t chunk_off,
                     std::int64_t array_off) -> void {
    const Group& g = *groups[a];
    const std::size_t n = g.size();
    const std::int64_t cs = chunk_strides_[a];
    const std::int64_t as = array_strides_[a];
    if (a < last) {
      for (std::size_t i = 0; i < n; ++i) {
        const Pair p = g.at(i);
        self(self, a + 1, chunk_off + p.local * cs, array_off + p.k * as);
      }
      return;
    }
    if (joinable && g.consecutive) {
      const Pair p = g.at(0);
      visit(Run{chunk_off + p.local * cs, array_off + p.k * as,
                static_cast<std::int64_t>(n) * f.block});
      return;
    }
    std::size_t i = 0;
    while (i < n) {
      const Pair start = g.at(i);
      std::size_t j = i + 1;
      while (joinable && j < n && g.at(j).k == g.at(j - 1).k + 1 &&
             g.at(j).local == g.at(j - 1).local + 1) {
        ++j;
      }
      visit(Run{chunk_off + start.local * cs, array_off + start.k * as,
                static_cast<std::int64_t>(j - i) * f.block});
      i = j;
    }
  };
  recurse(recurse, 0, f.chunk_base, f.array_base);
}

}  // namespace larder::store
