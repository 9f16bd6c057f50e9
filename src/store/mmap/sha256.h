// SHA-256 (FIPS 180-4), only to name memmpy's files: memmpy stores array
// `name` in "<16 hex>.npy" with hash_64bit(name) = sha256(name) mod 2^64.
// No library larder links provides it. Pure functions: thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace larder::store::mmap {

std::array<std::uint8_t, 32> sha256(std::string_view data) noexcept;

// memmpy's hash_64bit: the digest's last 8 bytes as a big-endian integer.
std::uint64_t memmpy_hash64(std::string_view name) noexcept;

}  // namespace larder::store::mmap
