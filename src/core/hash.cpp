#include "larder/core/hash.h"

#include <fmt/format.h>
#include <xxhash.h>
// On x86, libxxhash's dispatching entry points pick the widest vector unit
// the CPU has at run time (AVX2, AVX-512: about 4x the SSE2 baseline the
// library is compiled for); its header renames the XXH3 calls below to them.
// The hashes are the same.
#if (defined(__x86_64__) || defined(__i386__)) && __has_include(<xxh_x86dispatch.h>)
#include <xxh_x86dispatch.h>
#endif

#include "larder/core/error.h"

namespace larder {

struct Hasher::State {
  XXH3_state_t* s64;
  XXH3_state_t* s128;
};

std::string Hash128::hex() const {
  return fmt::format("{:016x}{:016x}", high, low);
}

std::string hex64(std::uint64_t value) {
  return fmt::format("{:016x}", value);
}

std::uint64_t xxh3_64(std::span<const std::byte> data, std::uint64_t seed) noexcept {
  return XXH3_64bits_withSeed(data.data(), data.size(), seed);
}

std::uint64_t xxh3_64(std::string_view text, std::uint64_t seed) noexcept {
  return XXH3_64bits_withSeed(text.data(), text.size(), seed);
}

Hash128 xxh3_128(std::span<const std::byte> data, std::uint64_t seed) noexcept {
  const XXH128_hash_t h = XXH3_128bits_withSeed(data.data(), data.size(), seed);
  return {h.low64, h.high64};
}

Hasher::Hasher(std::uint64_t seed)
    : state_(std::make_unique<State>(State{XXH3_createState(), XXH3_createState()})) {
  if (state_->s64 == nullptr || state_->s128 == nullptr) {
    XXH3_freeState(state_->s64);
    XXH3_freeState(state_->s128);
    throw Error(ErrorCode::io, "out of memory creating a hash state");
  }
  XXH3_64bits_reset_withSeed(state_->s64, seed);
  XXH3_128bits_reset_withSeed(state_->s128, seed);
}

Hasher::~Hasher() {
  if (state_) {
    XXH3_freeState(state_->s64);
    XXH3_freeState(state_->s128);
  }
}

Hasher::Hasher(Hasher&&) noexcept = default;
Hasher& Hasher::operator=(Hasher&& other) noexcept {
  if (this != &other) {
    if (state_) {
      XXH3_freeState(state_->s64);
      XXH3_freeState(state_->s128);
    }
    state_ = std::move(other.state_);
  }
  return *this;
}

Hasher& Hasher::update(std::span<const std::byte> data) {
  XXH3_64bits_update(state_->s64, data.data(), data.size());
  XXH3_128bits_update(state_->s128, data.data(), data.size());
  return *this;
}

Hasher& Hasher::update(std::string_view text) {
  return update(std::as_bytes(std::span<const char>(text.data(), text.size())));
}

std::uint64_t Hasher::digest64() const {
  return XXH3_64bits_digest(state_->s64);
}

Hash128 Hasher::digest128() const {
  const XXH128_hash_t h = XXH3_128bits_digest(state_->s128);
  return {h.low64, h.high64};
}

struct Hasher64::State {
  XXH3_state_t* s;
};

Hasher64::Hasher64(std::uint64_t seed)
    : state_(std::make_unique<State>(State{XXH3_createState()})) {
  if (state_->s == nullptr) throw Error(ErrorCode::io, "out of memory creating a hash state");
  XXH3_64bits_reset_withSeed(state_->s, seed);
}

Hasher64::~Hasher64() {
  if (state_) XXH3_freeState(state_->s);
}

Hasher64::Hasher64(Hasher64&&) noexcept = default;
Hasher64& Hasher64::operator=(Hasher64&& other) noexcept {
  if (this != &other) {
    if (state_) XXH3_freeState(state_->s);
    state_ = std::move(other.state_);
  }
  return *this;
}

Hasher64& Hasher64::update(std::span<const std::byte> data) {
  XXH3_64bits_update(state_->s, data.data(), data.size());
  return *this;
}

std::uint64_t Hasher64::digest64() const {
  return XXH3_64bits_digest(state_->s);
}

}  // namespace larder
