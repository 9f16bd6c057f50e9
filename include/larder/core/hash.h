// xxh3 content hashes (libxxhash): 64-bit for checksums, 128-bit for content
// identity (cache keys, trace nodes). Hashes are stable across runs and
// machines. Hasher and Hasher64 are streaming states: one per thread; the
// free functions are thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace larder {

struct Hash128 {
  std::uint64_t low = 0;
  std::uint64_t high = 0;
  // 32 lowercase hex digits, high word first (as xxhsum prints it).
  std::string hex() const;
  friend bool operator==(const Hash128&, const Hash128&) = default;
};

std::uint64_t xxh3_64(std::span<const std::byte> data, std::uint64_t seed = 0) noexcept;
std::uint64_t xxh3_64(std::string_view text, std::uint64_t seed = 0) noexcept;
Hash128 xxh3_128(std::span<const std::byte> data, std::uint64_t seed = 0) noexcept;

// 16 lowercase hex digits.
std::string hex64(std::uint64_t value);

// Hashes data that arrives in pieces; the result equals hashing the
// concatenation in one call.
class Hasher {
 public:
  explicit Hasher(std::uint64_t seed = 0);
  ~Hasher();
  Hasher(Hasher&&) noexcept;
  Hasher& operator=(Hasher&&) noexcept;

  Hasher& update(std::span<const std::byte> data);
  Hasher& update(std::string_view text);
  std::uint64_t digest64() const;
  Hash128 digest128() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Hasher for the 64-bit hash alone, at half the cost per byte: for
// checksums of data streamed at disk speed.
class Hasher64 {
 public:
  explicit Hasher64(std::uint64_t seed = 0);
  ~Hasher64();
  Hasher64(Hasher64&&) noexcept;
  Hasher64& operator=(Hasher64&&) noexcept;

  Hasher64& update(std::span<const std::byte> data);
  std::uint64_t digest64() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace larder
