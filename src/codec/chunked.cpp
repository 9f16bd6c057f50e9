#include "larder/codec/chunked.h"

#include <fmt/format.h>

#include "larder/core/error.h"
#include "larder/core/parallel.h"

namespace larder::codec {
namespace {

std::size_t chunk_count(std::size_t bytes, std::size_t chunk_bytes) {
  if (chunk_bytes == 0) {
    throw Error(ErrorCode::invalid_argument, "chunk size must be at least 1 byte, got 0");
  }
  return bytes / chunk_bytes + (bytes % chunk_bytes != 0 ? 1 : 0);
}

// Says which chunk failed; the codec's message says why.
Error in_chunk(const Error& e, std::size_t i, std::size_t count) {
  return Error(e.code(), fmt::format("chunk {} of {}: {}", i, count, e.message()), e.file(),
               e.path());
}

}  // namespace

std::vector<std::vector<std::byte>> encode_chunks(const Codec& codec,
                                                  std::span<const std::byte> data,
                                                  std::size_t chunk_bytes) {
  const std::size_t count = chunk_count(data.size(), chunk_bytes);
  std::vector<std::vector<std::byte>> chunks(count);
  parallel_for(static_cast<std::int64_t>(count), 1, [&](std::int64_t begin, std::int64_t end) {
    for (auto i = static_cast<std::size_t>(begin); i < static_cast<std::size_t>(end); ++i) {
      const std::size_t offset = i * chunk_bytes;
      try {
        chunks[i] = codec.encode(data.subspan(offset, std::min(chunk_bytes, data.size() - offset)));
      } catch (const Error& e) {
        throw in_chunk(e, i, count);
      }
    }
  });
  return chunks;
}

void decode_chunks(const Codec& codec, const std::vector<std::vector<std::byte>>& chunks,
                   std::span<std::byte> out, std::size_t chunk_bytes) {
  const std::size_t count = chunk_count(out.size(), chunk_bytes);
  if (chunks.size() != count) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("{} chunks of {} bytes cannot fill {} bytes; {} are needed",
                            chunks.size(), chunk_bytes, out.size(), count));
  }
  parallel_for(static_cast<std::int64_t>(count), 1, [&](std::int64_t begin, std::int64_t end) {
    for (auto i = static_cast<std::size_t>(begin); i < static_cast<std::size_t>(end); ++i) {
      const std::size_t offset = i * chunk_bytes;
      try {
        codec.decode(chunks[i], out.subspan(offset, std::min(chunk_bytes, out.size() - offset)));
      } catch (const Error& e) {
        throw in_chunk(e, i, count);
      }
    }
  });
}

}  // namespace larder::codec
