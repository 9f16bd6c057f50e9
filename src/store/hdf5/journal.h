// AppendJournal — what makes appends to an HDF5 dataset crash-safe.
//
// libhdf5 1.10 writes its own metadata (chunk index, extent) in no
// particular order, so a process killed while it flushes can tear the chunk
// index and lose chunks committed long before. The journal is larder's own
// record of what an extendable dataset has committed, kept in raw data that
// libhdf5 never rewrites:
//   - the commit record (rows, slot, chunk records, clean or not), in two
//     alternating copies with a checksum: a copy torn by a kill is ignored
//     and the other one is the previous commit;
//   - two slots for the rows of the unfinished last block;
//   - where every full chunk of the dataset is stored (file address, size,
//     filter mask), from which a reopen finds or restores what the index lost.
// The journal of dataset P is the uint8 dataset /.larder/tails/<xxh3 of P>,
// contiguous and allocated when created, with overflow segments of doubling
// size ("<name>.1", "<name>.2", ...) found through a table of their file
// addresses in its header. It is written with pwrite straight into its
// allocated bytes (no metadata changes, no libhdf5 buffering) and read the
// same way. Layout: docs/formats/hdf5.md, "Appends".
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "context.h"

namespace larder::store::hdf5 {

// The commit record.
struct JournalCommit {
  std::int64_t rows = 0;     // committed rows of the dataset
  std::int64_t slot = 0;     // the slot holding the unfinished block's rows
  std::int64_t records = 0;  // chunk records that are committed
  bool clean = false;        // libhdf5's own view was complete when written
  // When clean: the dataset's extent and stored bytes, to notice another
  // tool changing it before larder's next append.
  std::int64_t extent = 0;
  std::uint64_t stored_bytes = 0;
};

// Where one full chunk is stored.
struct ChunkRecord {
  static constexpr std::uint64_t kNone = ~std::uint64_t{0};  // never written: fill value
  std::uint64_t address = kNone;
  std::uint64_t size = 0;
  std::uint32_t mask = 0;  // filters skipped when it was written
  bool operator==(const ChunkRecord&) const = default;
};

class AppendJournal {
 public:
  // Whether files of `context` can hold journals (on-disk sec2 files).
  static bool supported(const Context& context);
  // Creates the journal of the dataset at `path` (whose object header is at
  // `object`), with slots of `slot_bytes` and room for `capacity` records
  // before the first overflow segment.
  static std::unique_ptr<AppendJournal> create(const Context& context, const std::string& path,
                                               std::uint64_t object, std::uint64_t slot_bytes,
                                               std::int64_t capacity);
  // The dataset's journal, or null when it has none. A journal left by
  // another dataset once stored at `path` is not this one's: null too.
  static std::unique_ptr<AppendJournal> open(const Context& context, const std::string& path,
                                             std::uint64_t object, std::uint64_t slot_bytes);
  // Paths of the datasets whose journals are not clean (a writer was killed).
  static std::vector<std::string> unclean_datasets(const Context& context);
  // Deletes the journal of the dataset at `path`, if any.
  static void remove(const Context& context, const std::string& path);

  const JournalCommit& committed() const noexcept { return commit_; }
  // Writes the commit record (the copy not holding the current one).
  void commit(const JournalCommit& commit);

  void read_slot(std::int64_t slot, std::span<std::byte> out) const;
  void write_slot(std::int64_t slot, std::uint64_t offset, std::span<const std::byte> bytes);

  std::vector<ChunkRecord> read_records(std::int64_t count) const;
  // Writes records [first, first + records.size()), adding overflow
  // segments as needed (each flushed before anything relies on it).
  void write_records(std::int64_t first, std::span<const ChunkRecord> records);

  // `size` bytes of the file at `address` (a chunk a record points to).
  std::vector<std::byte> read_file(std::uint64_t address, std::uint64_t size) const;

 private:
  struct Segment {
    std::uint64_t address;  // of its first record
    std::int64_t first;     // index of its first record
    std::int64_t capacity;  // records
  };
  AppendJournal(Context context, std::string path, std::string name, int fd);

  void add_segment();
  void pwrite_all(std::uint64_t address, std::span<const std::byte> bytes) const;
  void pread_all(std::uint64_t address, std::span<std::byte> out,
                 bool zeros_past_end = false) const;

  Context context_;
  std::string path_;  // of the dataset, for messages
  std::string name_;  // of the journal dataset
  int fd_;            // libhdf5's own descriptor of the file
  std::uint64_t base_ = 0;
  std::uint64_t object_ = 0;
  std::uint64_t slot_bytes_ = 0;
  std::int64_t capacity0_ = 0;
  std::uint64_t sequence_ = 0;
  JournalCommit commit_;
  std::vector<Segment> segments_;
};

}  // namespace larder::store::hdf5
