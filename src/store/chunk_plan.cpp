#include "chunk_plan.h"

#include <algorithm>
#include <cstring>

namespace larder::store {

std::vector<std::int64_t> default_chunks(const DatasetOptions& o) {
  constexpr std::size_t kTargetChunkBytes = std::size_t{1} << 20;
  const Shape& s = o.shape;
  std::vector<std::int64_t> chunks(s.begin(), s.end());
  if (chunks.empty()) return chunks;
  const std::int64_t row_elements = s.rank() > 1 ? s.without_first().num_elements() : 1;
  const auto row_bytes =
      static_cast<std::int64_t>(std::max<std::size_t>(1, row_elements * o.dtype.item_size()));
  std::int64_t rows =
      std::max<std::int64_t>(1, static_cast<std::int64_t>(kTargetChunkBytes) / row_bytes);
  if (!o.extendable) rows = std::min(rows, std::max<std::int64_t>(s[0], 1));
  chunks[0] = rows;
  for (std::size_t a = 1; a < chunks.size(); ++a)
    chunks[a] = std::max<std::int64_t>(chunks[a], 1);
  return chunks;
}

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
    group_axis(axes[a], chunk_shape_[a], shape_[a], axes_[a]);
    chunk_count_ *= static_cast<std::int64_t>(axes_[a].size());
  }
}

void ChunkPlan::group_axis(const ResolvedAxis& axis, std::int64_t cs, std::int64_t extent,
                           std::vector<Group>& groups) {
  if (!axis.is_list && axis.step > 0) {
    // Ascending: chunk by chunk, as many positions as fall into each.
    std::int64_t k = 0;
    std::int64_t src = axis.start;
    while (k < axis.count) {
      const std::int64_t local = src % cs;
      const std::int64_t n = std::min(axis.count - k, (cs - 1 - local) / axis.step + 1);
      groups.push_back(Group{.chunk = src / cs,
                             .pairs = {},
                             .consecutive = axis.step == 1,
                             .count = n,
                             .first = {k, local},
                             .step = axis.step});
      k += n;
      src += n * axis.step;
    }
    return;
  }
  // Any order: positions grouped by chunk, keeping their order inside each
  // (a stable counting sort when the chunks along the axis are few enough).
  struct Entry {
    std::int64_t chunk, k, local;
  };
  std::vector<Entry> entries(static_cast<std::size_t>(axis.count));
  for (std::int64_t k = 0; k < axis.count; ++k) {
    const std::int64_t src = axis.source_index(k);
    entries[static_cast<std::size_t>(k)] = {src / cs, k, src % cs};
  }
  const std::int64_t chunks = (extent + cs - 1) / cs;
  if (chunks <= 4 * axis.count + 1024) {
    std::vector<std::int64_t> starts(static_cast<std::size_t>(chunks) + 1, 0);
    for (const Entry& e : entries)
      ++starts[static_cast<std::size_t>(e.chunk) + 1];
    std::size_t touched = 0;
    for (std::size_t c = 1; c < starts.size(); ++c) {
      touched += starts[c] > 0 ? 1 : 0;
      starts[c] += starts[c - 1];
    }
    groups.reserve(touched);
    std::vector<Entry> sorted(entries.size());
    for (const Entry& e : entries)
      sorted[static_cast<std::size_t>(starts[static_cast<std::size_t>(e.chunk)]++)] = e;
    entries.swap(sorted);
  } else {
    std::stable_sort(entries.begin(), entries.end(),
                     [](const Entry& x, const Entry& y) { return x.chunk < y.chunk; });
  }
  for (const Entry& e : entries) {
    if (groups.empty() || groups.back().chunk != e.chunk) {
      groups.push_back({.chunk = e.chunk, .pairs = {}});
    } else {
      const Pair& last = groups.back().pairs.back();
      groups.back().consecutive &= e.k == last.k + 1 && e.local == last.local + 1;
    }
    groups.back().pairs.push_back({e.k, e.local});
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

ChunkPlan::Folded ChunkPlan::fold(std::span<const Group* const> groups) const {
  Folded f{groups.size(), 1, 0, 0};
  while (f.inner > 0) {
    const std::size_t a = f.inner - 1;
    const Group& g = *groups[a];
    // One position only moves the block; several extend it when the block
    // is exactly one step of this axis on both sides and they are
    // consecutive on both sides.
    if (g.size() > 1 &&
        (chunk_strides_[a] != f.block || array_strides_[a] != f.block || !g.consecutive)) {
      break;
    }
    f.chunk_base += g.at(0).local * chunk_strides_[a];
    f.array_base += g.at(0).k * array_strides_[a];
    f.block *= static_cast<std::int64_t>(g.size());
    f.inner = a;
  }
  return f;
}

std::optional<ChunkPlan::Run> ChunkPlan::whole_chunk(std::span<const Group* const> groups) const {
  const Folded f = fold(groups);
  const std::int64_t elements = chunk_shape_.empty() ? 1 : chunk_strides_[0] * chunk_shape_[0];
  if (f.inner != 0 || f.block != elements) return std::nullopt;
  return Run{f.chunk_base, f.array_base, f.block};
}

void ChunkPlan::copy(std::span<const Group* const> groups, std::byte* chunk, std::byte* array,
                     std::size_t item_size, bool to_chunk) const {
  for_each_run(groups, [&](const Run& r) {
    std::byte* c = chunk + static_cast<std::size_t>(r.chunk) * item_size;
    std::byte* x = array + static_cast<std::size_t>(r.array) * item_size;
    const std::size_t n = static_cast<std::size_t>(r.count) * item_size;
    to_chunk ? std::memcpy(c, x, n) : std::memcpy(x, c, n);
  });
}

bool ChunkPlan::covers(std::span<const std::int64_t> coords,
                       std::span<const Group* const> groups) const {
  for (std::size_t a = 0; a < groups.size(); ++a) {
    const std::int64_t begin = coords[a] * chunk_shape_[a];
    const std::int64_t in_bounds = std::min(chunk_shape_[a], shape_[a] - begin);
    // Distinct local positions must number the in-bounds extent (a
    // pattern's positions are distinct).
    const Group& g = *groups[a];
    std::int64_t distinct = g.count;
    if (!g.pairs.empty()) {
      std::vector<bool> seen(static_cast<std::size_t>(chunk_shape_[a]), false);
      distinct = 0;
      for (const Pair& p : g.pairs) {
        if (!seen[static_cast<std::size_t>(p.local)]) {
          seen[static_cast<std::size_t>(p.local)] = true;
          ++distinct;
        }
      }
    }
    if (distinct < in_bounds) return false;
  }
  return true;
}

}  // namespace larder::store
