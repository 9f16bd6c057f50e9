// lz4 — LZ4 blocks in one of two framings (no LZ4 frame format):
//   "hdf5"      the bytes of HDF5 filter 32004: BE64 decoded size, BE32 block
//               size, then per block a BE32 length and the block; a block whose
//               length equals its decoded length is stored raw.
//   "numcodecs" numcodecs' LZ4: LE32 decoded size, then one LZ4 block.
// Every length is checked against the input left before it is used.
#include <fmt/format.h>
#include <lz4.h>

#include <cstring>
#include <nlohmann/json.hpp>

#include "builtin_codecs.h"
#include "larder/core/endian.h"
#include "larder/core/error.h"

namespace larder::codec::detail {
namespace {

constexpr std::size_t kHdf5HeaderSize = 12;
constexpr std::size_t kNumcodecsHeaderSize = 4;
constexpr auto kLz4MaxInput = static_cast<std::size_t>(LZ4_MAX_INPUT_SIZE);

const char* chars(const std::byte* p) {
  return reinterpret_cast<const char*>(p);
}
char* chars(std::byte* p) {
  return reinterpret_cast<char*>(p);
}

class Lz4Codec final : public Codec {
 public:
  explicit Lz4Codec(CodecSpec spec)
      : Codec(std::move(spec)), hdf5_(this->spec().format == "hdf5") {}

  std::size_t max_encoded_size(std::size_t n) const override {
    if (!hdf5_) {
      check_block_input(n);
      return kNumcodecsHeaderSize +
             static_cast<std::size_t>(LZ4_compressBound(static_cast<int>(n)));
    }
    // A block that LZ4 cannot shrink is stored raw, so no block grows.
    return kHdf5HeaderSize + 4 * block_count(n) + n;
  }

  std::size_t encode_into(std::span<const std::byte> in, std::span<std::byte> out) const override {
    check_encode_capacity(*this, in.size(), out);
    return hdf5_ ? encode_hdf5(in, out) : encode_numcodecs(in, out);
  }

  void decode(std::span<const std::byte> in, std::span<std::byte> out) const override {
    const std::size_t declared = *decoded_size(in);
    if (declared != out.size()) {
      throw Error(ErrorCode::corrupt,
                  fmt::format("{}: {}-byte input declares {} decoded bytes, expected {}", name(),
                              in.size(), declared, out.size()));
    }
    if (hdf5_) {
      decode_hdf5(in, out);
    } else {
      decode_block(in.subspan(kNumcodecsHeaderSize), out, in.size());
    }
  }

  std::optional<std::size_t> decoded_size(std::span<const std::byte> in) const override {
    const std::size_t header = hdf5_ ? kHdf5HeaderSize : kNumcodecsHeaderSize;
    if (in.size() < header) {
      throw Error(ErrorCode::corrupt,
                  fmt::format("{}: {}-byte input is shorter than its {}-byte header", name(),
                              in.size(), header));
    }
    const std::uint64_t size = hdf5_ ? load_be(in.data(), 8) : load_le(in.data(), 4);
    if (size > std::numeric_limits<std::size_t>::max()) {
      throw Error(ErrorCode::corrupt, fmt::format("{}: {}-byte input declares {} decoded bytes",
                                                  name(), in.size(), size));
    }
    return static_cast<std::size_t>(size);
  }

  Hdf5Filter hdf5_filter(std::size_t) const override {
    if (!hdf5_) {
      throw Error(ErrorCode::unsupported,
                  "lz4 format 'numcodecs' has no HDF5 filter; use format 'hdf5' (filter 32004)");
    }
    return {.id = kHdf5Lz4, .name = "lz4", .cd_values = {static_cast<unsigned>(spec().block_size)}};
  }

  nlohmann::json numcodecs_config() const override {
    if (hdf5_) {
      throw Error(ErrorCode::unsupported,
                  "lz4 format 'hdf5' has no numcodecs codec; use format 'numcodecs'");
    }
    return {{"id", "lz4"}, {"acceleration", spec().level}};
  }

 private:
  std::string name() const { return fmt::format("lz4 ({})", spec().format); }

  void check_block_input(std::size_t n) const {
    if (n > kLz4MaxInput) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("{}: cannot encode {} bytes; an LZ4 block holds at most {}", name(),
                              n, kLz4MaxInput));
    }
  }

  std::size_t block_count(std::size_t n) const {
    const std::size_t block = spec().block_size;
    return n / block + (n % block != 0 ? 1 : 0);
  }

  std::size_t encode_numcodecs(std::span<const std::byte> in, std::span<std::byte> out) const {
    check_block_input(in.size());
    store_le(out.data(), in.size(), 4);
    const int capacity = static_cast<int>(
        std::min(out.size() - kNumcodecsHeaderSize, static_cast<std::size_t>(INT32_MAX)));
    const int n = LZ4_compress_fast(chars(in.data()), chars(out.data() + kNumcodecsHeaderSize),
                                    static_cast<int>(in.size()), capacity, spec().level);
    if (n <= 0) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("{}: LZ4_compress_fast failed on {} bytes", name(), in.size()));
    }
    return kNumcodecsHeaderSize + static_cast<std::size_t>(n);
  }

  std::size_t encode_hdf5(std::span<const std::byte> in, std::span<std::byte> out) const {
    const std::size_t block = std::min(spec().block_size, in.size());
    store_be(out.data(), in.size(), 8);
    store_be(out.data() + 8, block, 4);
    std::size_t pos = kHdf5HeaderSize;
    for (std::size_t done = 0; done < in.size();) {
      const std::size_t raw = std::min(block, in.size() - done);
      std::byte* length = out.data() + pos;
      std::byte* data = length + 4;
      // The filter stores a block raw unless LZ4 makes it strictly smaller;
      // a capacity of raw - 1 gives that test for free (LZ4 returns 0).
      const int n = LZ4_compress_fast(chars(in.data() + done), chars(data), static_cast<int>(raw),
                                      static_cast<int>(raw - 1), spec().level);
      std::size_t stored = static_cast<std::size_t>(n);
      if (n <= 0) {
        std::memcpy(data, in.data() + done, raw);
        stored = raw;
      }
      store_be(length, stored, 4);
      pos += 4 + stored;
      done += raw;
    }
    return pos;
  }

  void decode_hdf5(std::span<const std::byte> in, std::span<std::byte> out) const {
    std::size_t block = static_cast<std::size_t>(load_be(in.data() + 8, 4));
    if (block == 0 && !out.empty()) {
      throw Error(ErrorCode::corrupt,
                  fmt::format("{}: {}-byte input declares a block size of 0 for {} bytes", name(),
                              in.size(), out.size()));
    }
    block = std::min(block, out.size());
    std::size_t pos = kHdf5HeaderSize;
    for (std::size_t done = 0; done < out.size();) {
      const std::size_t raw = std::min(block, out.size() - done);
      if (in.size() - pos < 4) {
        throw Error(ErrorCode::corrupt,
                    fmt::format("{}: {}-byte input ends at block {} of its {} decoded bytes",
                                name(), in.size(), done / block, out.size()));
      }
      const std::size_t stored = static_cast<std::size_t>(load_be(in.data() + pos, 4));
      pos += 4;
      if (stored > in.size() - pos) {
        throw Error(ErrorCode::corrupt,
                    fmt::format("{}: {}-byte input declares a {}-byte block at offset {} with "
                                "only {} bytes left",
                                name(), in.size(), stored, pos - 4, in.size() - pos));
      }
      const auto block_out = out.subspan(done, raw);
      if (stored == raw) {
        std::memcpy(block_out.data(), in.data() + pos, raw);
      } else {
        decode_block(in.subspan(pos, stored), block_out, in.size());
      }
      pos += stored;
      done += raw;
    }
    if (pos != in.size()) {
      throw Error(ErrorCode::corrupt,
                  fmt::format("{}: {} bytes follow the last block of the {}-byte input", name(),
                              in.size() - pos, in.size()));
    }
  }

  // One LZ4 block that must decode to exactly out.size() bytes.
  void decode_block(std::span<const std::byte> block, std::span<std::byte> out,
                    std::size_t input_size) const {
    if (block.size() > kLz4MaxInput || out.size() > kLz4MaxInput) {
      throw Error(ErrorCode::corrupt,
                  fmt::format("{}: {}-byte input holds an LZ4 block of {} bytes for {} decoded "
                              "bytes, beyond LZ4's limit of {}",
                              name(), input_size, block.size(), out.size(), kLz4MaxInput));
    }
    char none = 0;
    const int n = LZ4_decompress_safe(block.empty() ? &none : chars(block.data()),
                                      out.empty() ? &none : chars(out.data()),
                                      static_cast<int>(block.size()), static_cast<int>(out.size()));
    if (n < 0 || static_cast<std::size_t>(n) != out.size()) {
      throw Error(ErrorCode::corrupt,
                  fmt::format("{}: {}-byte input holds an LZ4 block of {} bytes that does not "
                              "decode to the expected {} bytes",
                              name(), input_size, block.size(), out.size()));
    }
  }

  bool hdf5_;
};

}  // namespace

std::unique_ptr<Codec> make_lz4_codec(const CodecSpec& spec) {
  CodecSpec normal{.id = spec.id,
                   .level = spec.level == -1 ? kLz4DefaultAcceleration : spec.level,
                   .format = spec.format.empty() ? "hdf5" : spec.format};
  if (normal.format != "hdf5" && normal.format != "numcodecs") {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("lz4 format '{}' is not one of hdf5, numcodecs", spec.format));
  }
  if (normal.level < 1) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("lz4 level (acceleration) {} is below 1", spec.level));
  }
  if (normal.format == "hdf5") {
    normal.block_size = spec.block_size == 0 ? kLz4DefaultBlockSize : spec.block_size;
    if (normal.block_size > kLz4MaxInput) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("lz4 block_size {} is above LZ4's limit of {}", spec.block_size,
                              kLz4MaxInput));
    }
  }
  return std::make_unique<Lz4Codec>(std::move(normal));
}

}  // namespace larder::codec::detail
