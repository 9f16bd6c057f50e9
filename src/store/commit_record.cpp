#include "commit_record.h"

#include <fmt/format.h>

#include "larder/core/endian.h"
#include "larder/core/error.h"
#include "larder/core/hash.h"

namespace larder::store {

void encode_commit_record(const CommitRecordFormat& format, const CommitRecord& record,
                          std::span<std::byte> out) {
  if (format.words < 4 || record.payload.size() != format.payload_words() ||
      out.size() < format.bytes()) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("a commit record of {} words cannot hold {} payload words in {} bytes",
                            format.words, record.payload.size(), out.size()));
  }
  std::byte* p = out.data();
  store_le(p, format.magic, 8);
  store_le(p + 8, format.version, 8);
  store_le(p + 16, record.sequence, 8);
  for (std::size_t i = 0; i < record.payload.size(); ++i)
    store_le(p + 24 + 8 * i, record.payload[i], 8);
  const std::size_t hashed = format.bytes() - 8;
  store_le(p + hashed, xxh3_64(std::span<const std::byte>(p, hashed)), 8);
}

std::optional<CommitRecord> decode_commit_record(const CommitRecordFormat& format,
                                                 std::span<const std::byte> bytes) {
  if (format.words < 4 || bytes.size() < format.bytes()) return std::nullopt;
  const std::byte* p = bytes.data();
  const std::size_t hashed = format.bytes() - 8;
  if (load_le(p, 8) != format.magic || load_le(p + 8, 8) != format.version ||
      load_le(p + hashed, 8) != xxh3_64(bytes.first(hashed))) {
    return std::nullopt;
  }
  CommitRecord record;
  record.sequence = load_le(p + 16, 8);
  record.payload.resize(format.payload_words());
  for (std::size_t i = 0; i < record.payload.size(); ++i)
    record.payload[i] = load_le(p + 24 + 8 * i, 8);
  return record;
}

std::optional<CommitRecord> latest_commit_record(const CommitRecordFormat& format,
                                                 std::span<const std::byte> copy0,
                                                 std::span<const std::byte> copy1) {
  std::optional<CommitRecord> latest;
  const std::span<const std::byte> copies[2] = {copy0, copy1};
  for (std::size_t c = 0; c < 2; ++c) {
    auto record = decode_commit_record(format, copies[c]);
    if (!record || commit_copy(record->sequence) != c) continue;
    if (!latest || record->sequence > latest->sequence) latest = std::move(record);
  }
  return latest;
}

}  // namespace larder::store
