// Memory for chunks in flight, shared by the chunked drivers (hdf5, zarr):
// DecodedChunk (a decoded chunk, shared by the cache and the reads using
// it), ChunkCache (decoded chunks within a byte budget: the read window;
// one owner, not thread-safe) and Scratch (per-thread working buffers that
// are kept from chunk to chunk, so a scan does not allocate per chunk).
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <span>
#include <unordered_map>
#include <utility>

namespace larder::store {

// A pread call costs about as much as copying this many bytes from the page
// cache: a chunk with more runs selected than its size in these is read whole.
constexpr std::size_t kPreadCallBytes = std::size_t{8} << 10;

// A decoded chunk in native byte order, shared by the cache and the reads
// that use it.
struct DecodedChunk {
  std::shared_ptr<std::byte[]> bytes;
  std::size_t size = 0;
  // What the driver checks a cached chunk against before using it (zarr:
  // the identity of the chunk file it was decoded from); 0 when unused.
  std::uint64_t tag = 0;

  explicit operator bool() const noexcept { return bytes != nullptr; }
  std::byte* data() const noexcept { return bytes.get(); }
  // Uninitialised: a decoder overwrites every byte.
  static DecodedChunk allocate(std::size_t size) {
    return {std::make_shared_for_overwrite<std::byte[]>(size), size, 0};
  }
};

// Decoded chunks, most recently used first, within a byte budget.
class ChunkCache {
 public:
  explicit ChunkCache(std::size_t budget) : budget_(budget) {}
  std::size_t budget() const noexcept { return budget_; }
  DecodedChunk get(std::int64_t key) {
    auto it = index_.find(key);
    if (it == index_.end()) return {};
    order_.splice(order_.begin(), order_, it->second);
    return it->second->second;
  }
  void put(std::int64_t key, DecodedChunk chunk) {
    if (chunk.size > budget_) return;
    erase(key);
    used_ += chunk.size;
    order_.emplace_front(key, std::move(chunk));
    index_[key] = order_.begin();
    while (used_ > budget_) {
      used_ -= order_.back().second.size;
      index_.erase(order_.back().first);
      order_.pop_back();
    }
  }
  void erase(std::int64_t key) {
    auto it = index_.find(key);
    if (it == index_.end()) return;
    used_ -= it->second->second.size;
    order_.erase(it->second);
    index_.erase(it);
  }
  void clear() {
    order_.clear();
    index_.clear();
    used_ = 0;
  }

 private:
  using Entry = std::pair<std::int64_t, DecodedChunk>;
  std::size_t budget_;
  std::size_t used_ = 0;
  std::list<Entry> order_;
  std::unordered_map<std::int64_t, std::list<Entry>::iterator> index_;
};

// Working memory for one chunk on the calling thread. Buffers up to
// kKeptScratchBytes stay with the thread (one per `slot`) from chunk to chunk
// and read to read, so a scan neither allocates nor has the kernel hand out
// freshly zeroed pages per chunk; larger ones are the chunk's own. Two
// Scratch objects alive at once on one thread need different slots.
class Scratch {
 public:
  enum Slot { raw, decoded, spare };
  Scratch(Slot slot, std::size_t size) {
    struct Kept {
      std::unique_ptr<std::byte[]> bytes;
      std::size_t size = 0;
    };
    thread_local Kept kept[3];
    if (size > kKeptScratchBytes) {
      own_.reset(new std::byte[size]);
      bytes_ = {own_.get(), size};
      return;
    }
    Kept& k = kept[slot];
    if (k.size < size) {
      k.bytes.reset(new std::byte[size]);
      k.size = size;
    }
    bytes_ = {k.bytes.get(), size};
  }
  std::span<std::byte> bytes() const noexcept { return bytes_; }

 private:
  static constexpr std::size_t kKeptScratchBytes = std::size_t{16} << 20;
  std::unique_ptr<std::byte[]> own_;
  std::span<std::byte> bytes_;
};

}  // namespace larder::store
