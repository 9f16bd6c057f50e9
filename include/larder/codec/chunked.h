// Encoding and decoding a buffer as a sequence of equal chunks, in parallel
// on the shared TBB pool — how the storage drivers and the benchmarks drive
// a Codec. Each chunk is independent; the last one may be shorter.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "larder/codec/codec.h"

namespace larder::codec {

std::vector<std::vector<std::byte>> encode_chunks(const Codec& codec,
                                                  std::span<const std::byte> data,
                                                  std::size_t chunk_bytes);

// `out` is the whole decoded buffer: chunk i lands at i * chunk_bytes.
void decode_chunks(const Codec& codec, const std::vector<std::vector<std::byte>>& chunks,
                   std::span<std::byte> out, std::size_t chunk_bytes);

}  // namespace larder::codec
