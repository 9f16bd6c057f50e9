#include "larder/loader/sampler.h"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>
#include <utility>

#include "larder/core/error.h"
#include "larder/core/random.h"

namespace larder::loader {
namespace {

// One stream per (seed, epoch, purpose): an order depends on nothing else.
Random stream(std::uint64_t seed, std::uint64_t epoch, std::uint64_t purpose) {
  return Random(seed, epoch * 4 + purpose);
}

void shuffle_in_place(std::int64_t* first, std::int64_t n, Random& rng) {
  shuffle(std::span<std::int64_t>(first, static_cast<std::size_t>(n)), rng);
}

constexpr std::uint64_t kFullStream = 1;
constexpr std::uint64_t kBlockOrderStream = 2;
constexpr std::uint64_t kWindowStream = 3;

void check_options(const SamplerOptions& o) {
  if (o.world_size < 1) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("world size {} must be at least 1", o.world_size));
  }
  if (o.rank < 0 || o.rank >= o.world_size) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("rank {} is outside [0, {}) for world size {}", o.rank, o.world_size,
                            o.world_size));
  }
  if (o.block_size < 1) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("block size {} must be at least 1", o.block_size));
  }
  if (o.window < 1) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("window of {} blocks must be at least 1", o.window));
  }
}

// Positions [0, n) in blocks of `block` shuffled, then shuffled within each
// window of `window` blocks; `starts` gets each window's first position and
// `local` each position's index among its window's positions in ascending
// order (what the window held before its shuffle).
std::vector<std::int64_t> block_order(std::int64_t n, const SamplerOptions& o, std::uint64_t epoch,
                                      std::vector<std::int64_t>& starts,
                                      std::vector<std::int64_t>& local) {
  const std::int64_t blocks = (n + o.block_size - 1) / o.block_size;
  std::vector<std::int64_t> block_ids(static_cast<std::size_t>(blocks));
  std::iota(block_ids.begin(), block_ids.end(), std::int64_t{0});
  Random order_rng = stream(o.seed, epoch, kBlockOrderStream);
  shuffle_in_place(block_ids.data(), blocks, order_rng);

  Random window_rng = stream(o.seed, epoch, kWindowStream);
  std::vector<std::int64_t> out;
  out.reserve(static_cast<std::size_t>(n));
  local.clear();
  local.reserve(static_cast<std::size_t>(n));
  std::vector<std::int64_t> ascending;
  for (std::int64_t first = 0; first < blocks; first += o.window) {
    const std::int64_t last = std::min(blocks, first + o.window);
    starts.push_back(static_cast<std::int64_t>(out.size()));
    // The window's blocks in ascending order, so that a reader meets its
    // rows in storage order when it loads the window.
    std::sort(block_ids.begin() + first, block_ids.begin() + last);
    ascending.clear();
    for (std::int64_t b = first; b < last; ++b) {
      const std::int64_t begin = block_ids[static_cast<std::size_t>(b)] * o.block_size;
      const std::int64_t end = std::min(n, begin + o.block_size);
      for (std::int64_t p = begin; p < end; ++p)
        ascending.push_back(p);
    }
    const auto start = local.size();
    for (std::size_t i = 0; i < ascending.size(); ++i)
      local.push_back(static_cast<std::int64_t>(i));
    shuffle_in_place(local.data() + start, static_cast<std::int64_t>(ascending.size()), window_rng);
    for (std::size_t i = start; i < local.size(); ++i)
      out.push_back(ascending[static_cast<std::size_t>(local[i])]);
  }
  return out;
}

// Renumbers local[begin, end) — distinct indices into one window — as
// 0, 1, ... in the same relative order: a shard's part of a window.
void renumber(std::vector<std::int64_t>& local, std::int64_t begin, std::int64_t end) {
  std::vector<std::pair<std::int64_t, std::int64_t>> by_index;
  for (std::int64_t p = begin; p < end; ++p)
    by_index.emplace_back(local[static_cast<std::size_t>(p)], p);
  std::sort(by_index.begin(), by_index.end());
  for (std::size_t r = 0; r < by_index.size(); ++r)
    local[static_cast<std::size_t>(by_index[r].second)] = static_cast<std::int64_t>(r);
}

}  // namespace

Shuffle shuffle_from_string(std::string_view text) {
  if (text == "none") return Shuffle::none;
  if (text == "full") return Shuffle::full;
  if (text == "block") return Shuffle::block;
  throw Error(ErrorCode::invalid_argument,
              fmt::format("shuffle '{}' is none of none, full, block", text));
}

std::string_view to_string(Shuffle shuffle) noexcept {
  switch (shuffle) {
    case Shuffle::none:
      return "none";
    case Shuffle::full:
      return "full";
    case Shuffle::block:
      return "block";
  }
  return "none";
}

std::vector<std::int64_t> permutation(std::int64_t n, std::uint64_t seed, std::uint64_t epoch) {
  std::vector<std::int64_t> out(static_cast<std::size_t>(std::max<std::int64_t>(n, 0)));
  std::iota(out.begin(), out.end(), std::int64_t{0});
  Random rng = stream(seed, epoch, kFullStream);
  shuffle_in_place(out.data(), static_cast<std::int64_t>(out.size()), rng);
  return out;
}

Sampler Sampler::over(std::int64_t rows, const SamplerOptions& options) {
  check_options(options);
  if (rows < 0) {
    throw Error(ErrorCode::invalid_argument, fmt::format("row count {} is negative", rows));
  }
  return Sampler(rows, std::nullopt, options);
}

Sampler Sampler::over_subset(std::vector<std::int64_t> ids, const SamplerOptions& options) {
  check_options(options);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("subset row id {} (at position {}) is negative", ids[i], i));
    }
  }
  const auto n = static_cast<std::int64_t>(ids.size());
  return Sampler(n, std::move(ids), options);
}

std::pair<std::int64_t, std::int64_t> Sampler::shard() const noexcept {
  const std::int64_t world = options_.world_size;
  const std::int64_t rank = options_.rank;
  const std::int64_t base = population_ / world;
  if (options_.shard_rule == ShardRule::equal) return {rank * base, (rank + 1) * base};
  const std::int64_t extra = population_ % world;
  const std::int64_t begin = rank * base + std::min(rank, extra);
  return {begin, begin + base + (rank < extra ? 1 : 0)};
}

std::int64_t Sampler::size() const noexcept {
  const auto [begin, end] = shard();
  return end - begin;
}

EpochOrder Sampler::epoch(std::uint64_t epoch) const {
  EpochOrder order;
  std::vector<std::int64_t> positions;
  std::vector<std::int64_t> starts;
  switch (options_.shuffle) {
    case Shuffle::none:
      positions.resize(static_cast<std::size_t>(population_));
      std::iota(positions.begin(), positions.end(), std::int64_t{0});
      break;
    case Shuffle::full:
      positions = permutation(population_, options_.seed, epoch);
      break;
    case Shuffle::block:
      positions = block_order(population_, options_, epoch, starts, order.local);
      break;
  }
  const auto [begin, end] = shard();
  if (begin != 0 || end != population_) {
    positions.erase(positions.begin() + end, positions.end());
    positions.erase(positions.begin(), positions.begin() + begin);
    if (options_.shuffle == Shuffle::block) {
      // The windows cut by the shard's ends hold only part of their rows.
      auto& local = order.local;
      const auto window_of = [&](std::int64_t p) {
        return std::upper_bound(starts.begin(), starts.end(), p) - starts.begin() - 1;
      };
      if (end > begin) {
        const auto first = window_of(begin);
        const auto last = window_of(end - 1);
        const std::int64_t first_end =
            first + 1 < static_cast<std::ptrdiff_t>(starts.size())
                ? std::min(end, starts[static_cast<std::size_t>(first) + 1])
                : end;
        renumber(local, begin, first_end);
        if (last != first) renumber(local, starts[static_cast<std::size_t>(last)], end);
      }
      local.erase(local.begin() + end, local.end());
      local.erase(local.begin(), local.begin() + begin);
    }
  }
  if (ids_) {
    for (auto& p : positions)
      p = (*ids_)[static_cast<std::size_t>(p)];
  }
  order.rows = std::move(positions);
  if (options_.shuffle == Shuffle::block) {
    // Window starts inside this rank's part, rebased; the part's first
    // position starts a (possibly partial) window.
    order.windows.push_back(0);
    for (const std::int64_t s : starts) {
      if (s > begin && s < end) order.windows.push_back(s - begin);
    }
  }
  return order;
}

}  // namespace larder::loader
