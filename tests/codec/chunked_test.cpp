#include "larder/codec/chunked.h"

#include <gtest/gtest.h>

#include "codec/test_data.h"
#include "larder/codec/registry.h"
#include "larder/core/error.h"

namespace larder::codec {
namespace {

using testing::smooth_bytes;

TEST(Chunked, EncodesEqualChunksAndDecodesThemBack) {
  const auto data = smooth_bytes(10 * 65536 + 1234, 1);  // ten full chunks and a short one
  for (const auto& spec : testing::one_of_each_codec()) {
    SCOPED_TRACE(spec.to_json().dump());
    const auto codec = make_codec(spec);
    const auto chunks = encode_chunks(*codec, data, 65536);
    ASSERT_EQ(chunks.size(), 11u);

    // Each chunk stands alone: it is the codec's encoding of its slice.
    EXPECT_EQ(chunks[3], codec->encode(std::span(data).subspan(3 * 65536, 65536)));
    EXPECT_EQ(chunks[10], codec->encode(std::span(data).subspan(10 * 65536)));

    std::vector<std::byte> back(data.size());
    decode_chunks(*codec, chunks, back, 65536);
    EXPECT_EQ(back, data);
  }
}

TEST(Chunked, EmptyDataHasNoChunks) {
  const auto codec = make_codec({.id = "zstd"});
  EXPECT_TRUE(encode_chunks(*codec, {}, 1024).empty());
  std::vector<std::byte> none;
  EXPECT_NO_THROW(decode_chunks(*codec, {}, none, 1024));
}

TEST(Chunked, RejectsAZeroChunkSizeAndAMismatchedChunkCount) {
  const auto codec = make_codec({.id = "lz4"});
  const auto data = smooth_bytes(5000, 2);
  EXPECT_THROW(encode_chunks(*codec, data, 0), Error);
  const auto chunks = encode_chunks(*codec, data, 1000);
  std::vector<std::byte> too_big(6000);
  try {
    decode_chunks(*codec, chunks, too_big, 1000);
    ADD_FAILURE() << "decoded 5 chunks into 6000 bytes";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
  }
}

TEST(Chunked, ACorruptChunkIsNamed) {
  const auto codec = make_codec({.id = "blosc-lz4", .typesize = 4});
  const auto data = smooth_bytes(8 * 4096, 3);
  auto chunks = encode_chunks(*codec, data, 4096);
  chunks[5].resize(chunks[5].size() / 2);
  std::vector<std::byte> back(data.size());
  try {
    decode_chunks(*codec, chunks, back, 4096);
    ADD_FAILURE() << "decoded a truncated chunk";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::corrupt);
    EXPECT_NE(std::string(e.what()).find("chunk 5 of 8"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace larder::codec
