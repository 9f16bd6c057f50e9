// What the crash writer writes and the crash test expects: one dataset,
// values that depend only on the global row index and a per-file key.
#pragma once

#include <cstdint>

namespace larder::crash {

inline constexpr const char* kDataset = "x";
inline constexpr std::int64_t kColumns = 8;
inline constexpr std::int64_t kChunkRows = 64;

// x[row, column]. The key has bit 62 set (and bit 63 clear), so no value is
// ever zero, the fill value a lost chunk reads back as.
inline std::int64_t expected(std::int64_t row, std::int64_t column, std::uint64_t key) {
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(row * kColumns + column) ^ key);
}

inline std::uint64_t make_key(std::uint64_t random) {
  return (random & 0x3FFF'FFFF'FFFF'FFFFull) | 0x4000'0000'0000'0000ull;
}

}  // namespace larder::crash
