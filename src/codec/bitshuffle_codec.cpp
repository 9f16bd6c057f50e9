// bitshuffle — the bytes of the bitshuffle HDF5 filter 32008 (bitshuffle
// 0.4/0.5, kiyo-masui/bitshuffle): a bit transpose of each block of
// elements, optionally followed by LZ4 or zstd per block.
//
// The transpose. A block of n elements (n a multiple of 8) of s bytes is an
// n x 8s matrix of bits, element i's bit b being bit b % 8 of its byte
// b / 8. The output is the transposed 8s x n matrix, row after row, each
// row's n bits packed into n / 8 bytes with the first element in the least
// significant bit: output bit (8j + k) * n + i, that is bit i % 8 of byte
// ((8j + k) * n + i) / 8, is bit k of byte j of element i.
//
// The chunk. Elements go into blocks of B elements (B a multiple of 8;
// default max(128, (8192 / s) rounded down to a multiple of 8)); the
// elements after the last full block form one shorter block, rounded down
// to a multiple of 8, and the last (count % 8) elements are stored as they
// are, after everything else.
//   format "none":  the transposed blocks, then the leftover bytes; the
//                   chunk keeps its size.
//   format "lz4" / "zstd":
//     u64 BE   decoded size of the chunk in bytes
//     u32 BE   block size in BYTES (B * s)
//     per block: u32 BE stored length L, then L bytes: the transposed
//                block compressed as one LZ4 block (LZ4_compress_default)
//                or one zstd frame (ZSTD_compress at the level)
//     the leftover bytes, raw.
// Unlike HDF5's lz4 filter, a block is compressed even when that makes it
// larger.
//
// The transpose is a plain loop over bits: simple to check against the
// definition above, and fast enough next to the compression.
#include <fmt/format.h>
#include <lz4.h>
#include <zstd.h>

#include <array>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>

#include "builtin_codecs.h"
#include "larder/core/endian.h"
#include "larder/core/error.h"

namespace larder::codec::detail {
namespace {

constexpr std::size_t kHeaderSize = 12;
constexpr std::size_t kBlockMultiple = 8;
constexpr std::size_t kTargetBlockBytes = 8192;
constexpr std::size_t kMinDefaultBlock = 128;
// One block must fit one LZ4 block; zstd takes the same limit.
constexpr auto kMaxBlockBytes = static_cast<std::size_t>(LZ4_MAX_INPUT_SIZE);

enum class Inner { none, lz4, zstd };

std::size_t default_block_elements(std::size_t typesize) {
  const std::size_t block = kTargetBlockBytes / typesize / kBlockMultiple * kBlockMultiple;
  return std::max(block, kMinDefaultBlock);
}

// memcpy without its null-pointer precondition: empty spans may have no data.
void copy_bytes(std::byte* to, const std::byte* from, std::size_t n) {
  if (n != 0) std::memcpy(to, from, n);
}

// `n` elements of `s` bytes, n a multiple of 8: see the file comment.
void transpose_bits(const std::byte* in, std::byte* out, std::size_t n, std::size_t s) {
  const std::size_t row_bytes = n / 8;
  std::array<std::uint8_t, 8> group{};
  for (std::size_t g = 0; g < row_bytes; ++g) {  // elements 8g .. 8g + 7
    for (std::size_t j = 0; j < s; ++j) {
      for (std::size_t m = 0; m < 8; ++m)
        group[m] = std::to_integer<std::uint8_t>(in[(8 * g + m) * s + j]);
      for (std::size_t k = 0; k < 8; ++k) {
        unsigned packed = 0;
        for (std::size_t m = 0; m < 8; ++m)
          packed |= ((group[m] >> k) & 1u) << m;
        out[(8 * j + k) * row_bytes + g] = static_cast<std::byte>(packed);
      }
    }
  }
}

// The inverse of transpose_bits.
void untranspose_bits(const std::byte* in, std::byte* out, std::size_t n, std::size_t s) {
  const std::size_t row_bytes = n / 8;
  std::array<std::uint8_t, 8> rows{};
  for (std::size_t g = 0; g < row_bytes; ++g) {
    for (std::size_t j = 0; j < s; ++j) {
      for (std::size_t k = 0; k < 8; ++k)
        rows[k] = std::to_integer<std::uint8_t>(in[(8 * j + k) * row_bytes + g]);
      for (std::size_t m = 0; m < 8; ++m) {
        unsigned byte = 0;
        for (std::size_t k = 0; k < 8; ++k)
          byte |= ((rows[k] >> m) & 1u) << k;
        out[(8 * g + m) * s + j] = static_cast<std::byte>(byte);
      }
    }
  }
}

// How a chunk of `elements` elements falls into blocks.
struct Layout {
  std::size_t full_blocks;  // of `block` elements
  std::size_t last_block;   // elements of the shorter block; 0: none
  std::size_t leftover;     // elements stored raw at the end (< 8)
};

Layout layout(std::size_t elements, std::size_t block) {
  const std::size_t rest = elements % block;
  return {.full_blocks = elements / block,
          .last_block = rest / kBlockMultiple * kBlockMultiple,
          .leftover = elements % kBlockMultiple};
}

class BitshuffleCodec final : public Codec {
 public:
  BitshuffleCodec(CodecSpec spec, Inner inner)
      : Codec(std::move(spec)),
        inner_(inner),
        typesize_(static_cast<std::size_t>(this->spec().typesize)),
        block_(this->spec().block_size) {}

  std::size_t max_encoded_size(std::size_t n) const override {
    if (inner_ == Inner::none) return n;
    const Layout l = layout(n / typesize_, block_);
    std::size_t bound = kHeaderSize + l.full_blocks * (4 + compress_bound(block_ * typesize_));
    if (l.last_block != 0) bound += 4 + compress_bound(l.last_block * typesize_);
    return bound + l.leftover * typesize_ + n % typesize_;
  }

  std::size_t encode_into(std::span<const std::byte> in, std::span<std::byte> out) const override {
    check_encode_capacity(*this, in.size(), out);
    if (in.size() % typesize_ != 0) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("{}: {} bytes are not a whole number of {}-byte elements", name(),
                              in.size(), typesize_));
    }
    const std::size_t elements = in.size() / typesize_;
    const Layout l = layout(elements, block_);
    const std::size_t blocks = l.full_blocks + (l.last_block != 0 ? 1 : 0);
    const std::size_t leftover_bytes = l.leftover * typesize_;
    if (inner_ == Inner::none) {
      for (std::size_t b = 0; b < blocks; ++b) {
        const std::size_t offset = b * block_ * typesize_;
        transpose_bits(in.data() + offset, out.data() + offset, block_elements(b, l), typesize_);
      }
      const std::size_t tail = in.size() - leftover_bytes;
      copy_bytes(out.data() + tail, in.data() + tail, leftover_bytes);
      return in.size();
    }
    store_be(out.data(), in.size(), 8);
    store_be(out.data() + 8, block_ * typesize_, 4);
    std::size_t pos = kHeaderSize;
    std::vector<std::byte> shuffled(std::min(block_, elements) * typesize_);
    for (std::size_t b = 0; b < blocks; ++b) {
      const std::size_t count = block_elements(b, l);
      const std::size_t bytes = count * typesize_;
      transpose_bits(in.data() + b * block_ * typesize_, shuffled.data(), count, typesize_);
      const std::size_t stored = compress_block(std::span(shuffled).first(bytes),
                                                out.subspan(pos + 4, out.size() - pos - 4));
      store_be(out.data() + pos, stored, 4);
      pos += 4 + stored;
    }
    copy_bytes(out.data() + pos, in.data() + (in.size() - leftover_bytes), leftover_bytes);
    return pos + leftover_bytes;
  }

  void decode(std::span<const std::byte> in, std::span<std::byte> out) const override {
    if (out.size() % typesize_ != 0) {
      corrupt(in, out, fmt::format("that is not a whole number of {}-byte elements", typesize_));
    }
    const std::size_t elements = out.size() / typesize_;
    if (inner_ == Inner::none) {
      if (in.size() != out.size()) corrupt(in, out, "the sizes differ");
      const Layout l = layout(elements, block_);
      const std::size_t blocks = l.full_blocks + (l.last_block != 0 ? 1 : 0);
      for (std::size_t b = 0; b < blocks; ++b) {
        const std::size_t offset = b * block_ * typesize_;
        untranspose_bits(in.data() + offset, out.data() + offset, block_elements(b, l), typesize_);
      }
      const std::size_t tail = out.size() - l.leftover * typesize_;
      copy_bytes(out.data() + tail, in.data() + tail, l.leftover * typesize_);
      return;
    }
    const std::size_t declared = *decoded_size(in);
    if (declared != out.size()) {
      throw Error(ErrorCode::corrupt,
                  fmt::format("{}: {}-byte input declares {} decoded bytes, expected {}", name(),
                              in.size(), declared, out.size()));
    }
    const std::size_t block_bytes = static_cast<std::size_t>(load_be(in.data() + 8, 4));
    // The filter reads a block size of 0 as the default, as bitshuffle does.
    const std::size_t block =
        block_bytes == 0 ? default_block_elements(typesize_) : block_bytes / typesize_;
    if (block_bytes % typesize_ != 0 || block % kBlockMultiple != 0) {
      corrupt(in, out,
              fmt::format("its block size of {} bytes is not a multiple of 8 {}-byte elements",
                          block_bytes, typesize_));
    }
    const Layout l = layout(elements, block);
    const std::size_t blocks = l.full_blocks + (l.last_block != 0 ? 1 : 0);
    // Never more than the output: the header's block size is not trusted.
    std::vector<std::byte> shuffled(blocks == 0 ? 0 : std::min(block, elements) * typesize_);
    std::size_t pos = kHeaderSize;
    for (std::size_t b = 0; b < blocks; ++b) {
      const std::size_t count = b < l.full_blocks ? block : l.last_block;
      if (in.size() - pos < 4) {
        corrupt(in, out, fmt::format("it ends at block {} of {}", b, blocks));
      }
      const std::size_t stored = static_cast<std::size_t>(load_be(in.data() + pos, 4));
      pos += 4;
      if (stored > in.size() - pos) {
        corrupt(in, out,
                fmt::format("block {} declares {} bytes at offset {} with {} left", b, stored,
                            pos - 4, in.size() - pos));
      }
      const auto block_out = std::span(shuffled).first(count * typesize_);
      decompress_block(in.subspan(pos, stored), block_out, in, out, b);
      untranspose_bits(block_out.data(), out.data() + b * block * typesize_, count, typesize_);
      pos += stored;
    }
    const std::size_t leftover_bytes = l.leftover * typesize_;
    if (in.size() - pos != leftover_bytes) {
      corrupt(in, out,
              fmt::format("{} bytes follow the last block where {} leftover bytes belong",
                          in.size() - pos, leftover_bytes));
    }
    copy_bytes(out.data() + (out.size() - leftover_bytes), in.data() + pos, leftover_bytes);
  }

  std::optional<std::size_t> decoded_size(std::span<const std::byte> in) const override {
    if (inner_ == Inner::none) return in.size();  // the transpose keeps the size
    if (in.size() < kHeaderSize) {
      throw Error(ErrorCode::corrupt,
                  fmt::format("{}: {}-byte input is shorter than its {}-byte header", name(),
                              in.size(), kHeaderSize));
    }
    const std::uint64_t size = load_be(in.data(), 8);
    if (size > std::numeric_limits<std::size_t>::max()) {
      throw Error(ErrorCode::corrupt, fmt::format("{}: {}-byte input declares {} decoded bytes",
                                                  name(), in.size(), size));
    }
    return static_cast<std::size_t>(size);
  }

  Hdf5Filter hdf5_filter(std::size_t) const override {
    Hdf5Filter filter{
        .id = kHdf5Bitshuffle,
        .name = "bitshuffle",
        .cd_values = {kBitshuffleMajor, kBitshuffleMinor, static_cast<unsigned>(typesize_),
                      static_cast<unsigned>(block_), compression_code()}};
    // The filter reads the zstd level from cd_values[5] as a C int.
    if (inner_ == Inner::zstd) filter.cd_values.push_back(static_cast<unsigned>(spec().level));
    return filter;
  }

  nlohmann::json numcodecs_config() const override {
    throw Error(ErrorCode::unsupported,
                "bitshuffle has no numcodecs codec; it is stored in HDF5 only (filter 32008)");
  }

 private:
  std::string name() const { return fmt::format("bitshuffle ({})", spec().format); }

  unsigned compression_code() const {
    switch (inner_) {
      case Inner::lz4:
        return kBitshuffleLz4;
      case Inner::zstd:
        return kBitshuffleZstd;
      case Inner::none:
        break;
    }
    return kBitshuffleNoCompression;
  }

  std::size_t block_elements(std::size_t b, const Layout& l) const {
    return b < l.full_blocks ? block_ : l.last_block;
  }

  std::size_t compress_bound(std::size_t bytes) const {
    return inner_ == Inner::lz4
               ? static_cast<std::size_t>(LZ4_compressBound(static_cast<int>(bytes)))
               : ZSTD_compressBound(bytes);
  }

  std::size_t compress_block(std::span<const std::byte> block, std::span<std::byte> out) const {
    if (inner_ == Inner::lz4) {
      const int capacity =
          static_cast<int>(std::min(out.size(), static_cast<std::size_t>(INT32_MAX)));
      const int n = LZ4_compress_default(reinterpret_cast<const char*>(block.data()),
                                         reinterpret_cast<char*>(out.data()),
                                         static_cast<int>(block.size()), capacity);
      if (n <= 0) {
        throw Error(ErrorCode::invalid_argument,
                    fmt::format("{}: LZ4_compress_default failed on a {}-byte block", name(),
                                block.size()));
      }
      return static_cast<std::size_t>(n);
    }
    const std::size_t n = ZSTD_compressCCtx(thread_cctx(), out.data(), out.size(), block.data(),
                                            block.size(), spec().level);
    if (ZSTD_isError(n)) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("{}: compressing a {}-byte block failed: {}", name(), block.size(),
                              ZSTD_getErrorName(n)));
    }
    return n;
  }

  // One stored block that must decode to exactly block_out.size() bytes.
  void decompress_block(std::span<const std::byte> stored, std::span<std::byte> block_out,
                        std::span<const std::byte> in, std::span<std::byte> out,
                        std::size_t index) const {
    bool exact = false;
    if (inner_ == Inner::lz4) {
      if (stored.size() <= kMaxBlockBytes && block_out.size() <= kMaxBlockBytes) {
        char none = 0;
        const int n = LZ4_decompress_safe(
            stored.empty() ? &none : reinterpret_cast<const char*>(stored.data()),
            reinterpret_cast<char*>(block_out.data()), static_cast<int>(stored.size()),
            static_cast<int>(block_out.size()));
        exact = n >= 0 && static_cast<std::size_t>(n) == block_out.size();
      }
    } else {
      const std::size_t n = ZSTD_decompressDCtx(thread_dctx(), block_out.data(), block_out.size(),
                                                stored.data(), stored.size());
      exact = !ZSTD_isError(n) && n == block_out.size();
    }
    if (!exact) {
      corrupt(in, out,
              fmt::format("block {} ({} stored bytes) does not decode to its {} bytes", index,
                          stored.size(), block_out.size()));
    }
  }

  [[noreturn]] void corrupt(std::span<const std::byte> in, std::span<std::byte> out,
                            std::string_view why) const {
    throw Error(ErrorCode::corrupt,
                fmt::format("{}: {}-byte input does not decode to the expected {} bytes: {}",
                            name(), in.size(), out.size(), why));
  }

  Inner inner_;
  std::size_t typesize_;
  std::size_t block_;  // elements
};

[[noreturn]] void bad_setting(std::string_view what) {
  throw Error(ErrorCode::invalid_argument, fmt::format("bitshuffle {}", what));
}

}  // namespace

std::unique_ptr<Codec> make_bitshuffle_codec(const CodecSpec& spec) {
  const std::string format = spec.format.empty() ? "lz4" : spec.format;
  Inner inner = Inner::lz4;
  if (format == "none") {
    inner = Inner::none;
  } else if (format == "zstd") {
    inner = Inner::zstd;
  } else if (format != "lz4") {
    bad_setting(fmt::format("format '{}' is not one of lz4, zstd, none", spec.format));
  }
  if (spec.typesize < 1) bad_setting(fmt::format("typesize {} is below 1", spec.typesize));
  const auto typesize = static_cast<std::size_t>(spec.typesize);
  if (typesize > kMaxBlockBytes / kMinDefaultBlock) {
    bad_setting(
        fmt::format("typesize {} is above {}", spec.typesize, kMaxBlockBytes / kMinDefaultBlock));
  }
  const std::size_t block =
      spec.block_size == 0 ? default_block_elements(typesize) : spec.block_size;
  if (block % kBlockMultiple != 0) {
    bad_setting(fmt::format("block_size {} is not a multiple of 8 elements", spec.block_size));
  }
  if (block > kMaxBlockBytes / typesize) {
    bad_setting(fmt::format("block_size {} of {}-byte elements is above the {}-byte limit",
                            spec.block_size, typesize, kMaxBlockBytes));
  }
  int level = -1;  // LZ4 runs at its default acceleration: the filter stores no level
  if (inner == Inner::zstd) {
    level = spec.level == -1 ? kZstdDefaultLevel : spec.level;
    if (level < ZSTD_minCLevel() || level > ZSTD_maxCLevel()) {
      bad_setting(fmt::format("zstd level {} is outside {}..{}", spec.level, ZSTD_minCLevel(),
                              ZSTD_maxCLevel()));
    }
  }
  return std::make_unique<BitshuffleCodec>(CodecSpec{.id = spec.id,
                                                     .level = level,
                                                     .typesize = spec.typesize,
                                                     .block_size = block,
                                                     .format = format},
                                           inner);
}

}  // namespace larder::codec::detail
