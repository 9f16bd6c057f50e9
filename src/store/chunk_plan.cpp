#include "chunk_plan.h"

#include <algorithm>
#include <cstring>

namespace larder::store {

ChunkPlan::ChunkPlan(const std::vector<ResolvedAxis>& axes, const Shape& shape,
                     std::span<const std::int64_t> chunk_shape)
    : chunk_shape_(chunk_shape.begin(), chunk_shape.end()), shape_(shape.begin(), shape.end()) {
  const std::size_t rank = axes.size();
  axes_.resize(rank);
  array_strides_.assign(rank, 0);
  chunk_strides_.assign(rank, 1);
  for (std::size_t a = rank; a-- > 1;)
    chunk_strides_[a - 1] = chunk_strides_[a] * chunk_shape_[a];
  std::int64_t stride = 1;
  for (std::size_t a = rank; a-- > 0;) {
    if (axes[a].drops_axis) continue;
    array_strides_[a] = stride;
    stride *= axes[a].count;
  }
  for (std::size_t a = 0; a < rank; ++a) {
    const ResolvedAxis& axis = axes[a];
    const std::int64_t cs = chunk_shape_[a];
    struct Entry {
      std::int64_t chunk, k, local;
    };
    std::vector<Entry> entries;
    entries.reserve(static_cast<std::size_t>(axis.count));
    for (std::int64_t k = 0; k < axis.count; ++k) {
      const std::int64_t src = axis.source_index(k);
      entries.push_back({src / cs, k, src % cs});
    }
    // Slices with a positive step arrive sorted; reverse slices and lists do not.
    if (!std::is_sorted(entries.begin(), entries.end(),
                        [](const Entry& x, const Entry& y) { return x.chunk < y.chunk; })) {
      std::stable_sort(entries.begin(), entries.end(),
                       [](const Entry& x, const Entry& y) { return x.chunk < y.chunk; });
    }
    for (const Entry& e : entries) {
      if (axes_[a].empty() || axes_[a].back().chunk != e.chunk) axes_[a].push_back({e.chunk, {}});
      axes_[a].back().pairs.push_back({e.k, e.local});
    }
    chunk_count_ *= static_cast<std::int64_t>(axes_[a].size());
  }
}

void ChunkPlan::for_each_chunk(
    const std::function<void(std::span<const std::int64_t>, std::span<const Group* const>)>& visit)
    const {
  const std::size_t rank = axes_.size();
  if (chunk_count_ == 0) return;
  std::vector<std::size_t> index(rank, 0);
  std::vector<std::int64_t> coords(rank);
  std::vector<const Group*> groups(rank);
  while (true) {
    for (std::size_t a = 0; a < rank; ++a) {
      groups[a] = &axes_[a][index[a]];
      coords[a] = groups[a]->chunk;
    }
    visit(coords, groups);
    std::size_t a = rank;
    while (a > 0) {
      --a;
      if (++index[a] < axes_[a].size()) break;
      index[a] = 0;
      if (a == 0) return;
    }
    if (rank == 0) return;
  }
}

void ChunkPlan::copy(std::span<const Group* const> groups, std::byte* chunk, std::byte* array,
                     std::size_t item_size, bool to_chunk) const {
  const std::size_t rank = groups.size();
  if (rank == 0) {
    to_chunk ? std::memcpy(chunk, array, item_size) : std::memcpy(array, chunk, item_size);
    return;
  }
  // Recursive over axes; the innermost axis copies runs that are consecutive
  // on both sides in one memcpy.
  auto recurse = [&](auto&& self, std::size_t a, std::int64_t chunk_off,
                     std::int64_t array_off) -> void {
    const auto& pairs = groups[a]->pairs;
    if (a + 1 == rank) {
      const std::int64_t as = array_strides_[a];
      std::size_t i = 0;
      while (i < pairs.size()) {
        std::size_t j = i + 1;
        while (j < pairs.size() && pairs[j].k == pairs[j - 1].k + 1 &&
               pairs[j].local == pairs[j - 1].local + 1 && as == 1) {
          ++j;
        }
        const auto n = static_cast<std::size_t>(j - i) * item_size;
        std::byte* c = chunk + static_cast<std::size_t>(chunk_off + pairs[i].local) * item_size;
        std::byte* x = array + static_cast<std::size_t>(array_off + pairs[i].k * as) * item_size;
        to_chunk ? std::memcpy(c, x, n) : std::memcpy(x, c, n);
        i = j;
      }
      return;
    }
    for (const Pair& p : pairs) {
      self(self, a + 1, chunk_off + p.local * chunk_strides_[a],
           array_off + p.k * array_strides_[a]);
    }
  };
  recurse(recurse, 0, 0, 0);
}

bool ChunkPlan::covers(std::span<const std::int64_t> coords,
                       std::span<const Group* const> groups) const {
  for (std::size_t a = 0; a < groups.size(); ++a) {
    const std::int64_t begin = coords[a] * chunk_shape_[a];
    const std::int64_t in_bounds = std::min(chunk_shape_[a], shape_[a] - begin);
    // Distinct local positions must number the in-bounds extent.
    std::vector<bool> seen(static_cast<std::size_t>(chunk_shape_[a]), false);
    std::int64_t distinct = 0;
    for (const Pair& p : groups[a]->pairs) {
      if (!seen[static_cast<std::size_t>(p.local)]) {
        seen[static_cast<std::size_t>(p.local)] = true;
        ++distinct;
      }
    }
    if (distinct < in_bounds) return false;
  }
  return true;
}

}  // namespace larder::store
