// Unsigned integers of 1 to 8 bytes stored in a fixed byte order, whatever
// the host's: the framing of codec streams (big-endian lengths of HDF5's
// lz4 and bitshuffle filters, numcodecs' little-endian sizes) and larder's
// own binary records.
#pragma once

#include <cstddef>
#include <cstdint>

namespace larder {

inline std::uint64_t load_be(const std::byte* p, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i)
    v = (v << 8) | std::to_integer<std::uint64_t>(p[i]);
  return v;
}

inline void store_be(std::byte* p, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i, v >>= 8)
    p[i] = static_cast<std::byte>(v & 0xff);
}

inline std::uint64_t load_le(const std::byte* p, int bytes) {
  std::uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i)
    v = (v << 8) | std::to_integer<std::uint64_t>(p[i]);
  return v;
}

inline void store_le(std::byte* p, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i, v >>= 8)
    p[i] = static_cast<std::byte>(v & 0xff);
}

}  // namespace larder
