// parse_commit_file and check_commit read the commit file of every
// extendable mmap array (NAME.commit). Raw bytes must parse to a commit or
// to nothing, never crash. Because libFuzzer cannot forge a slot's
// checksum, odd first bytes instead seal the input's words into a valid
// slot: it must parse back unchanged, and a commit check_commit accepts
// must fit its data and checksum files and describe the array it applies to.
//
// Input: byte 0 picks the mode and the array (dtype, row extent, block
// size, extendable); even: the rest is the commit file. Odd: bytes 1-16
// are the data and sums file sizes, then the slot's sequence, rows, full
// blocks, tail checksum and row bytes (8 bytes each).
#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <vector>

#include "../src/store/mmap/commit.h"
#include "larder/core/error.h"

namespace {

using larder::store::mmap::Commit;

std::uint64_t word(const std::uint8_t* data, std::size_t size, std::size_t at) {
  std::uint64_t v = 0;
  if (at + 8 <= size) std::memcpy(&v, data + at, 8);
  return v;
}

larder::store::mmap::Sidecar array_for(std::uint8_t choice) {
  static const char* const kDtypes[] = {"<f8", "|u1", "<i4", "|S3"};
  larder::store::mmap::Sidecar s;
  s.dtype = larder::DType::from_string(kDtypes[(choice >> 1) % 4]);
  s.shape = larder::Shape{0, static_cast<std::int64_t>((choice >> 3) % 5)};
  s.block_bytes = std::uint64_t{4096} << ((choice >> 5) % 3);
  s.extendable = (choice & 0x80) == 0;
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace mmap = larder::store::mmap;
  if (size == 0) return 0;
  if (data[0] % 2 == 0) {
    (void)mmap::parse_commit_file(std::as_bytes(std::span(data + 1, size - 1)));
    return 0;
  }
  const Commit sealed{.sequence = word(data, size, 17),
                      .rows = word(data, size, 25),
                      .full_blocks = word(data, size, 33),
                      .tail_checksum = word(data, size, 41),
                      .row_bytes = word(data, size, 49)};
  std::array<std::byte, mmap::kCommitFileBytes> file{};
  const auto slot = mmap::format_commit_slot(sealed);
  std::memcpy(file.data() + mmap::commit_slot_offset(sealed.sequence), slot.data(), slot.size());
  const auto parsed = mmap::parse_commit_file(file);
  if (!parsed || !(*parsed == sealed)) std::abort();

  auto sidecar = array_for(data[0]);
  const std::uint64_t data_bytes = word(data, size, 1) % (std::uint64_t{1} << 40);
  const std::uint64_t sums_bytes = word(data, size, 9) % (std::uint64_t{1} << 30);
  try {
    mmap::check_commit(sealed, sidecar, data_bytes, sums_bytes,
                       {.data = "fuzz.bin", .commit = "fuzz.commit", .sums = "fuzz.sums"});
  } catch (const larder::Error& e) {
    if (e.code() != larder::ErrorCode::corrupt) std::abort();
    return 0;
  }
  // Accepted: it fits the files, and applying it gives an array whose
  // commit is the same one.
  const std::uint64_t committed = sealed.rows * sealed.row_bytes;
  if (committed > data_bytes || sealed.full_blocks * mmap::kSumBytes > sums_bytes) std::abort();
  if (sealed.full_blocks > (std::uint64_t{1} << 27)) std::abort();  // sums_bytes bounds it
  mmap::apply_commit(sidecar, sealed, std::vector<std::uint64_t>(sealed.full_blocks, 7));
  if (sidecar.committed_bytes() != committed ||
      sidecar.checksums.size() != (committed + sidecar.block_bytes - 1) / sidecar.block_bytes ||
      !(mmap::commit_of(sidecar, sealed.sequence) == sealed)) {
    std::abort();
  }
  return 0;
}
