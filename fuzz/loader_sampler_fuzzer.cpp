// Samplers against their contract, for any sizes and options the bytes
// pick: every shuffle of n rows (or of a subset) is a permutation, shards
// are disjoint and cover the epoch (cover rule) or are equal and disjoint
// (equal rule), block windows hold at most `window` blocks and index their
// rows as stored. Bad options must be Error(invalid_argument); any
// violation aborts.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <set>
#include <vector>

#include "larder/core/error.h"
#include "larder/loader/sampler.h"

namespace {

struct Bytes {
  const std::uint8_t* data;
  std::size_t size;
  std::uint64_t take(int n) {
    std::uint64_t v = 0;
    for (int i = 0; i < n && size > 0; ++i, ++data, --size)
      v = (v << 8) | *data;
    return v;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace larder::loader;
  Bytes in{data, size};
  const auto n = static_cast<std::int64_t>(in.take(2) % 5000);
  const std::uint64_t flags = in.take(1);
  SamplerOptions options{.shuffle = static_cast<Shuffle>(flags % 3),
                         .seed = in.take(8),
                         .block_size = static_cast<std::int64_t>(in.take(2) % 600) - 2,
                         .window = static_cast<std::int64_t>(in.take(1) % 20) - 2,
                         .rank = 0,
                         .world_size = static_cast<std::int64_t>(in.take(1) % 9) - 1,
                         .shard_rule = (flags & 8) != 0 ? ShardRule::equal : ShardRule::cover};
  const std::uint64_t epoch = in.take(4);
  const bool subset = (flags & 16) != 0;
  std::vector<std::int64_t> ids;
  if (subset) {
    for (std::int64_t i = 0; i < n; ++i)
      if (((i * 2654435761U) ^ options.seed) % 3 != 0) ids.push_back(i);
  }
  const bool valid = options.block_size >= 1 && options.window >= 1 && options.world_size >= 1;
  std::vector<std::int64_t> all;
  const std::int64_t population = subset ? static_cast<std::int64_t>(ids.size()) : n;
  for (std::int64_t rank = 0; rank < std::max<std::int64_t>(options.world_size, 1); ++rank) {
    options.rank = rank;
    try {
      const Sampler s = subset ? Sampler::over_subset(ids, options) : Sampler::over(n, options);
      if (!valid) std::abort();
      const EpochOrder order = s.epoch(epoch);
      if (static_cast<std::int64_t>(order.rows.size()) != s.size()) std::abort();
      if (options.shuffle == Shuffle::block) {
        for (std::size_t w = 0; w < order.windows.size(); ++w) {
          const std::int64_t end = w + 1 < order.windows.size()
                                       ? order.windows[w + 1]
                                       : static_cast<std::int64_t>(order.rows.size());
          std::set<std::int64_t> blocks;
          // local[] indexes the window's rows as stored: one slot each, ascending.
          std::vector<std::int64_t> stored(static_cast<std::size_t>(end - order.windows[w]), -1);
          for (std::int64_t p = order.windows[w]; p < end; ++p) {
            const std::int64_t l = order.local[static_cast<std::size_t>(p)];
            if (l < 0 || l >= static_cast<std::int64_t>(stored.size())) std::abort();
            if (stored[static_cast<std::size_t>(l)] != -1) std::abort();
            stored[static_cast<std::size_t>(l)] = order.rows[static_cast<std::size_t>(p)];
          }
          if (!std::is_sorted(stored.begin(), stored.end())) std::abort();
          for (std::int64_t p = order.windows[w]; p < end; ++p) {
            const std::int64_t row = order.rows[static_cast<std::size_t>(p)];
            const std::int64_t position =
                subset ? std::lower_bound(ids.begin(), ids.end(), row) - ids.begin() : row;
            blocks.insert(position / options.block_size);
          }
          // A shard's first window may be the tail of one window and its
          // last the head of another: still at most `window` blocks each.
          if (static_cast<std::int64_t>(blocks.size()) > options.window) std::abort();
        }
      }
      all.insert(all.end(), order.rows.begin(), order.rows.end());
    } catch (const larder::Error& e) {
      if (valid || e.code() != larder::ErrorCode::invalid_argument) std::abort();
      return 0;
    }
  }
  std::vector<std::int64_t> expected = subset ? ids : std::vector<std::int64_t>{};
  if (!subset) {
    for (std::int64_t i = 0; i < n; ++i)
      expected.push_back(i);
  }
  std::sort(all.begin(), all.end());
  if (std::adjacent_find(all.begin(), all.end()) != all.end()) std::abort();  // disjoint
  const std::int64_t world = options.world_size;
  if (options.shard_rule == ShardRule::cover) {
    if (all != expected) std::abort();  // covering
  } else {
    if (static_cast<std::int64_t>(all.size()) != population - population % world) std::abort();
    if (!std::includes(expected.begin(), expected.end(), all.begin(), all.end())) std::abort();
  }
  return 0;
}
