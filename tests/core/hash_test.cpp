#include "larder/core/hash.h"

#include <gtest/gtest.h>

#include <xxhash.h>

#include <string>

namespace larder {
namespace {

std::span<const std::byte> bytes_of(const std::string& s) {
  return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

TEST(Hash, MatchesLibxxhashAndIsSeedSensitive) {
  const std::string text = "larder keeps arrays larger than memory";
  EXPECT_EQ(xxh3_64(bytes_of(text)), XXH3_64bits(text.data(), text.size()));
  EXPECT_EQ(xxh3_64(text), xxh3_64(bytes_of(text)));
  EXPECT_NE(xxh3_64(text, 1), xxh3_64(text, 0));
  const XXH128_hash_t ref = XXH3_128bits(text.data(), text.size());
  EXPECT_EQ(xxh3_128(bytes_of(text)), (Hash128{ref.low64, ref.high64}));
}

TEST(Hash, StreamingEqualsOneShot) {
  std::string data(100000, '\0');
  for (std::size_t i = 0; i < data.size(); ++i)
    data[i] = static_cast<char>(i * 31 % 251);
  Hasher h;
  for (std::size_t pos = 0; pos < data.size(); pos += 777) {
    h.update(std::string_view(data).substr(pos, 777));
  }
  EXPECT_EQ(h.digest64(), xxh3_64(data));
  EXPECT_EQ(h.digest128(), xxh3_128(bytes_of(data)));
  Hasher moved = std::move(h);
  EXPECT_EQ(moved.digest64(), xxh3_64(data));

  Hasher64 h64(7);
  for (std::size_t pos = 0; pos < data.size(); pos += 4099)
    h64.update(bytes_of(data.substr(pos, 4099)));
  EXPECT_EQ(h64.digest64(), xxh3_64(data, 7));
  Hasher64 moved64 = std::move(h64);
  EXPECT_EQ(moved64.digest64(), xxh3_64(data, 7));
}

TEST(Hash, HexIsFixedWidth) {
  EXPECT_EQ(hex64(0xabc), "0000000000000abc");
  EXPECT_EQ((Hash128{1, 2}).hex(), "00000000000000020000000000000001");
  EXPECT_EQ(xxh3_128(bytes_of("x")).hex().size(), 32u);
}

}  // namespace
}  // namespace larder
