// Sampler — the order in which an epoch visits rows, as a list of row ids.
//
// Every order is an exact permutation of the rows (or of the subset given):
// each row exactly once per epoch. Shuffled orders are a function of (seed,
// epoch) only — the same on every platform and for any number of threads.
// Sharding cuts the epoch's order into world_size contiguous parts, one per
// rank (see ShardRule). A Sampler is an immutable value: thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace larder::loader {

enum class Shuffle {
  none,   // rows in ascending order
  full,   // a uniform random permutation per (seed, epoch)
  block,  // chunk-aware: blocks of rows in random order, rows shuffled within a window of blocks
};

// "none", "full", "block"; Error(invalid_argument) naming the text otherwise.
Shuffle shuffle_from_string(std::string_view text);
std::string_view to_string(Shuffle shuffle) noexcept;

// How an epoch's order of n rows is shared among world_size ranks.
enum class ShardRule {
  // Rank r takes the r-th of world_size contiguous parts of the order; the
  // first n % world_size ranks get one row more. Disjoint and covering;
  // equal length exactly when n % world_size == 0.
  cover,
  // Every rank takes n / world_size rows; the n % world_size positions at the
  // end of the epoch's order are dropped for that epoch (other rows each
  // epoch when shuffled). Disjoint and equal length; covering when
  // n % world_size == 0.
  equal,
};

struct SamplerOptions {
  Shuffle shuffle = Shuffle::none;
  std::uint64_t seed = 0;
  // Block shuffle: rows per block (e.g. the storage's chunk rows) and blocks
  // per window; rows mix within a window, so a reader holds at most `window`
  // blocks at once.
  std::int64_t block_size = 4096;
  std::int64_t window = 8;
  std::int64_t rank = 0;
  std::int64_t world_size = 1;
  ShardRule shard_rule = ShardRule::cover;
};

// One rank's order for one epoch. For a block shuffle, `windows` holds the
// positions in `rows` where each window of blocks starts (first 0), so that
// rows[windows[i]:windows[i+1]] come from at most `window` blocks, and
// `local` each position's index in its window's rows as stored (ascending
// positions of the population): a reader loads a window as that list,
// list[local[p]] = rows[p], and cuts batches from it without a search.
// Both are empty for other shuffles.
struct EpochOrder {
  std::vector<std::int64_t> rows;
  std::vector<std::int64_t> windows;
  std::vector<std::int64_t> local;
};

class Sampler {
 public:
  // Over rows [0, rows). Error(invalid_argument) for a negative count,
  // world_size < 1, rank outside [0, world_size), block_size or window < 1.
  static Sampler over(std::int64_t rows, const SamplerOptions& options);
  // Over the given row ids (e.g. those a cut selected), which keep their
  // order for Shuffle::none; blocks are runs of block_size consecutive ids
  // of the subset. Error(invalid_argument) for a negative id.
  static Sampler over_subset(std::vector<std::int64_t> ids, const SamplerOptions& options);

  const SamplerOptions& options() const noexcept { return options_; }
  // Rows the sampler draws from (all ranks together).
  std::int64_t population() const noexcept { return population_; }
  // Rows this rank visits per epoch.
  std::int64_t size() const noexcept;
  // This rank's order for `epoch`.
  EpochOrder epoch(std::uint64_t epoch) const;

 private:
  Sampler(std::int64_t population, std::optional<std::vector<std::int64_t>> ids,
          SamplerOptions options)
      : population_(population), ids_(std::move(ids)), options_(options) {}

  // [begin, end) of this rank's part of an order of population_ positions.
  std::pair<std::int64_t, std::int64_t> shard() const noexcept;

  std::int64_t population_ = 0;
  std::optional<std::vector<std::int64_t>> ids_;
  SamplerOptions options_;
};

// A uniform random permutation of [0, n) for (seed, epoch), by Fisher–Yates
// on larder's seeded Random (core/random.h): the same on every platform.
std::vector<std::int64_t> permutation(std::int64_t n, std::uint64_t seed, std::uint64_t epoch);

}  // namespace larder::loader
