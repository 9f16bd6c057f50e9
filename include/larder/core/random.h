// Seeded random numbers and permutations that are the same on every machine
// and with every thread count: a permutation depends on (n, seed) alone.
// A Random is a small value (xoshiro256**, seeded through splitmix64); use
// one per thread.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace larder {

class Random {
 public:
  explicit Random(std::uint64_t seed) noexcept;
  // Mixes several numbers (a seed and an epoch, say) into one stream.
  Random(std::uint64_t seed, std::uint64_t stream) noexcept;

  std::uint64_t next() noexcept;
  // Uniform in [0, bound), bound > 0, without modulo bias.
  std::uint64_t below(std::uint64_t bound) noexcept;
  // Uniform in [0, 1).
  double uniform() noexcept;

 private:
  std::uint64_t state_[4];
};

// The numbers 0..n-1 in a seeded random order (Fisher–Yates).
std::vector<std::int64_t> permutation(std::int64_t n, std::uint64_t seed);
// `values` reordered in place by the same rule.
void shuffle(std::span<std::int64_t> values, Random& random);

}  // namespace larder
