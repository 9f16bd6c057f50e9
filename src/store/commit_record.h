// Commit records kept in two alternating copies, each with its own checksum:
// how the HDF5 append journal and the mmap commit file publish what an
// append committed without fsync and without ever tearing the last commit.
//
// A record is `words` little-endian 64-bit words: the format's magic, its
// version, the sequence number, the payload, and last the xxh3-64 (seed 0)
// of the words before it. The record of sequence s is written over copy
// s % 2, so the newest commit never overwrites the previous one: a copy
// torn by a kill fails its checksum and the other copy, the previous
// commit, counts. Pure functions on caller-owned bytes: thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace larder::store {

struct CommitRecordFormat {
  std::uint64_t magic = 0;
  std::uint64_t version = 0;
  std::size_t words = 0;  // in all, from the magic to the checksum (at least 4)

  std::size_t bytes() const noexcept { return 8 * words; }
  std::size_t payload_words() const noexcept { return words - 4; }
};

struct CommitRecord {
  std::uint64_t sequence = 0;
  std::vector<std::uint64_t> payload;  // format.payload_words() of them
};

// The copy the record of `sequence` is written over: 0 or 1.
inline std::size_t commit_copy(std::uint64_t sequence) noexcept {
  return static_cast<std::size_t>(sequence % 2);
}

// Writes the record into `out` (format.bytes() of them); the payload must
// hold format.payload_words() words.
void encode_commit_record(const CommitRecordFormat& format, const CommitRecord& record,
                          std::span<std::byte> out);

// The record in `bytes`, or nothing when they hold none: too short, another
// magic or version, or a checksum that does not hold (never written, torn).
std::optional<CommitRecord> decode_commit_record(const CommitRecordFormat& format,
                                                 std::span<const std::byte> bytes);

// The commit that counts among the two copies: the valid one with the
// higher sequence. A valid record found in the copy its sequence does not
// belong to is not one this format wrote: it is ignored.
std::optional<CommitRecord> latest_commit_record(const CommitRecordFormat& format,
                                                 std::span<const std::byte> copy0,
                                                 std::span<const std::byte> copy1);

}  // namespace larder::store
