// blosc-* — c-blosc 1.x frames, the bytes of HDF5 filter 32001 and of
// numcodecs' Blosc. Chunks are parallelised across (chunked.cpp), so a
// chunk coded inside a parallel loop uses one blosc thread; a large chunk
// coded alone (an append of one chunk, a read of one) uses blosc's own
// threads, one per core larder may use. The bytes are the same either way.
#include <blosc.h>
#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <nlohmann/json.hpp>

#include "builtin_codecs.h"
#include "larder/core/error.h"
#include "larder/core/parallel.h"

namespace larder::codec::detail {
namespace {

// Below this, starting threads costs more than it saves.
constexpr std::size_t kThreadedBytes = std::size_t{128} << 10;

int threads_for(std::size_t bytes) {
  if (bytes < kThreadedBytes || in_parallel_for()) return 1;
  return std::clamp(max_concurrency(), 1, 8);
}

class BloscCodec final : public Codec {
 public:
  BloscCodec(CodecSpec spec, const BloscCompressor& compressor)
      : Codec(std::move(spec)), compressor_(compressor), cname_(compressor.cname) {}

  std::size_t max_encoded_size(std::size_t n) const override { return n + BLOSC_MAX_OVERHEAD; }

  std::size_t encode_into(std::span<const std::byte> in, std::span<std::byte> out) const override {
    if (in.size() > static_cast<std::size_t>(BLOSC_MAX_BUFFERSIZE)) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("{}: cannot encode {} bytes; blosc chunks hold at most {} bytes",
                              spec().id, in.size(), BLOSC_MAX_BUFFERSIZE));
    }
    check_encode_capacity(*this, in.size(), out);
    const int n = blosc_compress_ctx(spec().level, static_cast<int>(spec().shuffle),
                                     static_cast<std::size_t>(spec().typesize), in.size(),
                                     in.data(), out.data(), out.size(), cname_.c_str(),
                                     spec().block_size, threads_for(in.size()));
    if (n <= 0) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("{}: blosc_compress_ctx failed with {} on {} bytes", spec().id, n,
                              in.size()));
    }
    return static_cast<std::size_t>(n);
  }

  void decode(std::span<const std::byte> in, std::span<std::byte> out) const override {
    const std::size_t nbytes = validated_size(in);
    if (nbytes != out.size()) {
      throw Error(ErrorCode::corrupt,
                  fmt::format("{}: {}-byte input declares {} decoded bytes, expected {}", spec().id,
                              in.size(), nbytes, out.size()));
    }
    std::size_t header_nbytes = 0;
    std::size_t cbytes = 0;
    std::size_t blocksize = 0;
    blosc_cbuffer_sizes(in.data(), &header_nbytes, &cbytes, &blocksize);
    if (cbytes > in.size()) {
      throw Error(ErrorCode::corrupt, fmt::format("{}: {}-byte input declares {} compressed bytes",
                                                  spec().id, in.size(), cbytes));
    }
    const int n = blosc_decompress_ctx(in.data(), out.data(), out.size(), threads_for(out.size()));
    if (n < 0 || static_cast<std::size_t>(n) != out.size()) {
      throw Error(ErrorCode::corrupt,
                  fmt::format("{}: {}-byte input does not decode to the {} bytes it declares "
                              "(blosc_decompress_ctx returned {})",
                              spec().id, in.size(), out.size(), n));
    }
  }

  std::optional<std::size_t> decoded_size(std::span<const std::byte> in) const override {
    return validated_size(in);
  }

  Hdf5Filter hdf5_filter(std::size_t chunk_bytes) const override {
    if (chunk_bytes > std::numeric_limits<unsigned>::max()) {
      throw Error(ErrorCode::unsupported,
                  fmt::format("{}: HDF5 chunks of {} bytes do not fit the blosc filter's "
                              "cd_values (at most {} bytes)",
                              spec().id, chunk_bytes, std::numeric_limits<unsigned>::max()));
    }
    // hdf5-blosc: filter revision 2, blosc format 2, then the settings.
    return {.id = kHdf5Blosc,
            .name = "blosc",
            .cd_values = {2, 2, static_cast<unsigned>(spec().typesize),
                          static_cast<unsigned>(chunk_bytes), static_cast<unsigned>(spec().level),
                          static_cast<unsigned>(spec().shuffle), compressor_.compcode}};
  }

  nlohmann::json numcodecs_config() const override {
    return {{"id", "blosc"},
            {"cname", cname_},
            {"clevel", spec().level},
            {"shuffle", static_cast<int>(spec().shuffle)},
            {"blocksize", spec().block_size}};
  }

 private:
  // The decoded size of a frame that blosc_cbuffer_validate accepts, i.e.
  // one that is safe to hand to blosc_decompress_ctx.
  std::size_t validated_size(std::span<const std::byte> in) const {
    if (in.size() < BLOSC_MIN_HEADER_LENGTH) {
      throw Error(ErrorCode::corrupt,
                  fmt::format("{}: {}-byte input is shorter than the {}-byte blosc header",
                              spec().id, in.size(), BLOSC_MIN_HEADER_LENGTH));
    }
    std::size_t nbytes = 0;
    if (blosc_cbuffer_validate(in.data(), in.size(), &nbytes) != 0) {
      throw Error(ErrorCode::corrupt, fmt::format("{}: {}-byte input is not a valid blosc frame",
                                                  spec().id, in.size()));
    }
    return nbytes;
  }

  const BloscCompressor& compressor_;
  std::string cname_;  // NUL-terminated for blosc
};

static_assert(static_cast<int>(Shuffle::none) == BLOSC_NOSHUFFLE);
static_assert(static_cast<int>(Shuffle::byte) == BLOSC_SHUFFLE);
static_assert(static_cast<int>(Shuffle::bit) == BLOSC_BITSHUFFLE);

[[noreturn]] void bad_setting(std::string_view id, std::string_view what) {
  throw Error(ErrorCode::invalid_argument, fmt::format("{} {}", id, what));
}

}  // namespace

std::unique_ptr<Codec> make_blosc_codec(const CodecSpec& spec) {
  const BloscCompressor* compressor = nullptr;
  for (const auto& c : kBloscCompressors) {
    if (c.codec_id == spec.id) compressor = &c;
  }
  if (compressor == nullptr) bad_setting(spec.id, "is not a blosc codec");
  if (blosc_compname_to_compcode(std::string(compressor->cname).c_str()) < 0) {
    throw Error(ErrorCode::unsupported,
                fmt::format("{}: this c-blosc build has no '{}' compressor (it has {})", spec.id,
                            compressor->cname, blosc_list_compressors()));
  }
  CodecSpec normal{.id = spec.id,
                   .level = spec.level == -1 ? kBloscDefaultLevel : spec.level,
                   .shuffle = spec.shuffle,
                   .typesize = spec.typesize,
                   .block_size = spec.block_size};
  if (normal.level < 0 || normal.level > 9) {
    bad_setting(spec.id, fmt::format("level {} is outside 0..9", spec.level));
  }
  if (spec.shuffle != Shuffle::none && spec.shuffle != Shuffle::byte &&
      spec.shuffle != Shuffle::bit) {
    bad_setting(spec.id,
                fmt::format("shuffle {} is not none, byte or bit", static_cast<int>(spec.shuffle)));
  }
  if (spec.typesize < 1 || spec.typesize > BLOSC_MAX_TYPESIZE) {
    bad_setting(spec.id,
                fmt::format("typesize {} is outside 1..{}", spec.typesize, BLOSC_MAX_TYPESIZE));
  }
  if (spec.block_size > static_cast<std::size_t>(BLOSC_MAX_BUFFERSIZE)) {
    bad_setting(spec.id, fmt::format("block_size {} is above blosc's limit of {}", spec.block_size,
                                     BLOSC_MAX_BUFFERSIZE));
  }
  if (!spec.format.empty()) {
    bad_setting(spec.id,
                fmt::format("format '{}' is not known; blosc has one format", spec.format));
  }
  return std::make_unique<BloscCodec>(std::move(normal), *compressor);
}

}  // namespace larder::codec::detail
