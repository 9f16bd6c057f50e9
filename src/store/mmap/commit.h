// The commit file NAME.commit and the checksum file NAME.sums of an
// extendable memory-mapped array (format version 2, docs/formats/mmap.md):
// what makes an append committed without rewriting the JSON sidecar.
//
// NAME.commit is two 64-byte slots, each a commit record (commit_record.h)
// of the committed row count, the number of full checksum blocks and the
// checksum of the partial last block. NAME.sums holds the xxh3-64 of every
// full block, 8 little-endian bytes each, block b at byte 8b. An append
// writes its rows, then the sums of the blocks it completed, then the next
// slot: that pwrite is the commit.
//
// parse_commit_file() and check_commit() are where untrusted commit bytes
// are read; anything check_commit() refuses is Error(corrupt) naming the
// file. Pure functions on values: thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "sidecar.h"

namespace larder::store::mmap {

constexpr std::size_t kCommitSlotBytes = 64;
constexpr std::size_t kCommitFileBytes = 2 * kCommitSlotBytes;
constexpr std::uint64_t kSumBytes = 8;  // one entry of NAME.sums

// One commit: the state of an array's committed bytes.
struct Commit {
  std::uint64_t sequence = 0;       // 1 for the first; each commit one more
  std::uint64_t rows = 0;           // committed rows
  std::uint64_t full_blocks = 0;    // committed bytes / block bytes: sums in NAME.sums
  std::uint64_t tail_checksum = 0;  // xxh3-64 of the committed bytes past them (0: none)
  std::uint64_t row_bytes = 0;      // of the array, to tie the commit to its sidecar
  friend bool operator==(const Commit&, const Commit&) = default;
};

// The commit describing `sidecar`'s rows and checksums, numbered `sequence`.
Commit commit_of(const Sidecar& sidecar, std::uint64_t sequence);

// `sidecar` with the rows and checksums of `commit`, whose full blocks
// have the checksums `full_sums` (commit.full_blocks of them).
void apply_commit(Sidecar& sidecar, const Commit& commit, std::vector<std::uint64_t> full_sums);

// The slot recording `commit`, and where in NAME.commit it is written.
std::array<std::byte, kCommitSlotBytes> format_commit_slot(const Commit& commit);
std::uint64_t commit_slot_offset(std::uint64_t sequence);

// The commit that counts in the bytes of a commit file: the valid slot with
// the higher sequence. Nothing when neither slot is valid (never written,
// torn, or not a commit at all); bytes missing past the end count as a slot
// never written.
std::optional<Commit> parse_commit_file(std::span<const std::byte> bytes);

// The files of one array, for messages.
struct ArrayFiles {
  std::string data;    // NAME.bin
  std::string commit;  // NAME.commit
  std::string sums;    // NAME.sums
};

// Error(corrupt) naming the file at fault when `commit` cannot describe the
// array of `sidecar` whose data file holds `data_bytes` and whose checksum
// file `sums_bytes`: another row size, a row count a fixed-size array
// cannot have, more bytes than the data file holds, a block count or tail
// checksum that does not follow from the rows, or sums NAME.sums lacks.
void check_commit(const Commit& commit, const Sidecar& sidecar, std::uint64_t data_bytes,
                  std::uint64_t sums_bytes, const ArrayFiles& files);

// Entries of NAME.sums, as written and as read back.
std::vector<std::byte> format_sums(std::span<const std::uint64_t> sums);
std::vector<std::uint64_t> parse_sums(std::span<const std::byte> bytes);

}  // namespace larder::store::mmap
