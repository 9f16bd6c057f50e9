#include "commit.h"

#include <fmt/format.h>

#include "../commit_record.h"
#include "larder/core/endian.h"
#include "larder/core/error.h"
#include "larder/core/hash.h"

namespace larder::store::mmap {
namespace {

// "LMMCOMMT" read as little-endian text.
constexpr std::uint64_t kMagic = 0x544d4d4f434d4d4cULL;
constexpr std::uint64_t kVersion = 2;  // the array format version that has commit files
// magic, version, sequence, rows, full blocks, tail checksum, row bytes, checksum
constexpr CommitRecordFormat kSlotFormat{
    .magic = kMagic, .version = kVersion, .words = kCommitSlotBytes / 8};

[[noreturn]] void corrupt(const std::string& file, const std::string& what) {
  throw Error(ErrorCode::corrupt, what, file);
}

}  // namespace

Commit commit_of(const Sidecar& sidecar, std::uint64_t sequence) {
  const std::uint64_t committed = sidecar.committed_bytes();
  const std::uint64_t full = committed / sidecar.block_bytes;
  return {.sequence = sequence,
          .rows = sidecar.rows(),
          .full_blocks = full,
          .tail_checksum = committed % sidecar.block_bytes != 0 ? sidecar.checksums.at(full) : 0,
          .row_bytes = sidecar.row_bytes()};
}

void apply_commit(Sidecar& sidecar, const Commit& commit, std::vector<std::uint64_t> full_sums) {
  sidecar.shape = sidecar.shape.with(0, static_cast<std::int64_t>(commit.rows));
  sidecar.checksums = std::move(full_sums);
  if (sidecar.committed_bytes() % sidecar.block_bytes != 0)
    sidecar.checksums.push_back(commit.tail_checksum);
}

std::array<std::byte, kCommitSlotBytes> format_commit_slot(const Commit& commit) {
  std::array<std::byte, kCommitSlotBytes> out{};
  encode_commit_record(
      kSlotFormat,
      {.sequence = commit.sequence,
       .payload = {commit.rows, commit.full_blocks, commit.tail_checksum, commit.row_bytes}},
      out);
  return out;
}

std::uint64_t commit_slot_offset(std::uint64_t sequence) {
  return commit_copy(sequence) * kCommitSlotBytes;
}

std::optional<Commit> parse_commit_file(std::span<const std::byte> bytes) {
  const auto slot = [&](std::size_t k) {
    return bytes.size() >= (k + 1) * kCommitSlotBytes
               ? bytes.subspan(k * kCommitSlotBytes, kCommitSlotBytes)
               : std::span<const std::byte>();
  };
  const auto record = latest_commit_record(kSlotFormat, slot(0), slot(1));
  if (!record) return std::nullopt;
  const auto& w = record->payload;
  return Commit{.sequence = record->sequence,
                .rows = w[0],
                .full_blocks = w[1],
                .tail_checksum = w[2],
                .row_bytes = w[3]};
}

void check_commit(const Commit& c, const Sidecar& sidecar, std::uint64_t data_bytes,
                  std::uint64_t sums_bytes, const ArrayFiles& files) {
  const auto where = [&] { return fmt::format("{} (commit {})", files.commit, c.sequence); };
  if (c.row_bytes != sidecar.row_bytes()) {
    corrupt(files.commit, fmt::format("{} is for rows of {} bytes; the array's rows have {}",
                                      where(), c.row_bytes, sidecar.row_bytes()));
  }
  if (!sidecar.extendable && c.rows != sidecar.rows()) {
    corrupt(files.commit, fmt::format("{} commits {} rows to a fixed-size array of {}", where(),
                                      c.rows, sidecar.rows()));
  }
  if (c.rows > kMaxArrayBytes || (c.row_bytes != 0 && c.rows > kMaxArrayBytes / c.row_bytes)) {
    corrupt(files.commit, fmt::format("{} commits {} rows of {} bytes: more than 2^60 bytes",
                                      where(), c.rows, c.row_bytes));
  }
  const std::uint64_t committed = c.rows * c.row_bytes;
  if (committed > data_bytes) {
    corrupt(files.commit, fmt::format("{} commits {} rows of {} bytes, but {} holds {} bytes: "
                                      "the data file is truncated",
                                      where(), c.rows, c.row_bytes, files.data, data_bytes));
  }
  const std::uint64_t full = committed / sidecar.block_bytes;
  const bool partial = committed % sidecar.block_bytes != 0;
  if (c.full_blocks != full || (!partial && c.tail_checksum != 0)) {
    corrupt(files.commit,
            fmt::format("{} records {} full blocks and tail checksum {} for {} committed bytes "
                        "in blocks of {}",
                        where(), c.full_blocks, hex64(c.tail_checksum), committed,
                        sidecar.block_bytes));
  }
  if (sums_bytes / kSumBytes < full) {
    corrupt(files.sums, fmt::format("{} holds {} bytes, too few for the checksums of the {} full "
                                    "blocks {} commits",
                                    files.sums, sums_bytes, full, where()));
  }
}

std::vector<std::byte> format_sums(std::span<const std::uint64_t> sums) {
  std::vector<std::byte> out(sums.size() * kSumBytes);
  for (std::size_t i = 0; i < sums.size(); ++i)
    store_le(out.data() + i * kSumBytes, sums[i], 8);
  return out;
}

std::vector<std::uint64_t> parse_sums(std::span<const std::byte> bytes) {
  std::vector<std::uint64_t> out(bytes.size() / kSumBytes);
  for (std::size_t i = 0; i < out.size(); ++i)
    out[i] = load_le(bytes.data() + i * kSumBytes, 8);
  return out;
}

}  // namespace larder::store::mmap
