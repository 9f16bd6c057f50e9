// zstd — one raw zstd frame, the bytes of HDF5 filter 32015 and numcodecs'
// Zstd. Frames whose header omits the content size (streamed frames) are
// decoded with ZSTD_d_stableOutBuffer, so zstd writes straight into the
// caller's buffer and never allocates a window sized by the frame header.
#define ZSTD_STATIC_LINKING_ONLY  // ZSTD_d_stableOutBuffer: a parameter, not a symbol
#include <fmt/format.h>
#include <zstd.h>
#include <zstd_errors.h>

#include <nlohmann/json.hpp>

#include "builtin_codecs.h"
#include "larder/core/error.h"

namespace larder::codec::detail {
namespace {

struct CCtxFree {
  void operator()(ZSTD_CCtx* c) const noexcept { ZSTD_freeCCtx(c); }
};
struct DCtxFree {
  void operator()(ZSTD_DCtx* d) const noexcept { ZSTD_freeDCtx(d); }
};

}  // namespace

// Contexts are costly to create and not thread-safe: one of each per thread.
// ZSTD_compressCCtx writes what ZSTD_compress writes.
ZSTD_CCtx* thread_cctx() {
  thread_local std::unique_ptr<ZSTD_CCtx, CCtxFree> ctx(ZSTD_createCCtx());
  if (!ctx) throw std::bad_alloc();
  return ctx.get();
}

ZSTD_DCtx* thread_dctx() {
  thread_local std::unique_ptr<ZSTD_DCtx, DCtxFree> ctx(ZSTD_createDCtx());
  if (!ctx) throw std::bad_alloc();
  return ctx.get();
}

namespace {

class ZstdCodec final : public Codec {
 public:
  explicit ZstdCodec(CodecSpec spec) : Codec(std::move(spec)) {}

  std::size_t max_encoded_size(std::size_t n) const override {
    const std::size_t bound = ZSTD_compressBound(n);
    if (ZSTD_isError(bound)) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("zstd: cannot encode {} bytes in one frame", n));
    }
    return bound;
  }

  std::size_t encode_into(std::span<const std::byte> in, std::span<std::byte> out) const override {
    check_encode_capacity(*this, in.size(), out);
    const std::size_t n = ZSTD_compressCCtx(thread_cctx(), out.data(), out.size(), in.data(),
                                            in.size(), spec().level);
    if (ZSTD_isError(n)) {
      throw Error(ErrorCode::invalid_argument, fmt::format("zstd: compressing {} bytes failed: {}",
                                                           in.size(), ZSTD_getErrorName(n)));
    }
    return n;
  }

  void decode(std::span<const std::byte> in, std::span<std::byte> out) const override {
    const auto declared = decoded_size(in);
    if (!declared) {
      decode_streamed(in, out);
      return;
    }
    if (*declared != out.size()) {
      throw Error(ErrorCode::corrupt,
                  fmt::format("zstd: {}-byte input declares {} decoded bytes, expected {}",
                              in.size(), *declared, out.size()));
    }
    const std::size_t frame = ZSTD_findFrameCompressedSize(in.data(), in.size());
    if (ZSTD_isError(frame)) corrupt(in, out, ZSTD_getErrorName(frame));
    if (frame != in.size()) {
      corrupt(in, out, fmt::format("{} bytes follow the {}-byte frame", in.size() - frame, frame));
    }
    std::byte none{};
    void* dst = out.empty() ? &none : out.data();
    const std::size_t n = ZSTD_decompressDCtx(thread_dctx(), dst, out.size(), in.data(), in.size());
    if (ZSTD_isError(n)) corrupt(in, out, ZSTD_getErrorName(n));
    if (n != out.size()) corrupt(in, out, fmt::format("the frame holds {} bytes", n));
  }

  std::optional<std::size_t> decoded_size(std::span<const std::byte> in) const override {
    const unsigned long long size = ZSTD_getFrameContentSize(in.data(), in.size());
    if (size == ZSTD_CONTENTSIZE_UNKNOWN) return std::nullopt;
    if (size == ZSTD_CONTENTSIZE_ERROR) {
      throw Error(
          ErrorCode::corrupt,
          fmt::format("zstd: {}-byte input does not start with a zstd frame header", in.size()));
    }
    return static_cast<std::size_t>(size);
  }

  Hdf5Filter hdf5_filter(std::size_t) const override {
    return {.id = kHdf5Zstd, .name = "zstd", .cd_values = {static_cast<unsigned>(spec().level)}};
  }

  nlohmann::json numcodecs_config() const override {
    return {{"id", "zstd"}, {"level", spec().level}};
  }

 private:
  [[noreturn]] static void corrupt(std::span<const std::byte> in, std::span<std::byte> out,
                                   std::string_view why) {
    throw Error(ErrorCode::corrupt,
                fmt::format("zstd: {}-byte input does not decode to the expected {} bytes: {}",
                            in.size(), out.size(), why));
  }

  // A frame without a content size: decode it into `out` and no further.
  static void decode_streamed(std::span<const std::byte> in, std::span<std::byte> out) {
    ZSTD_DCtx* dctx = thread_dctx();
    ZSTD_DCtx_reset(dctx, ZSTD_reset_session_and_parameters);
    const std::size_t set = ZSTD_DCtx_setParameter(dctx, ZSTD_d_stableOutBuffer, 1);
    if (ZSTD_isError(set)) corrupt(in, out, ZSTD_getErrorName(set));
    std::byte none{};
    ZSTD_inBuffer input{in.data(), in.size(), 0};
    ZSTD_outBuffer output{out.empty() ? &none : out.data(), out.size(), 0};
    std::size_t remaining = 1;
    while (remaining != 0) {
      const std::size_t in_before = input.pos;
      const std::size_t out_before = output.pos;
      remaining = ZSTD_decompressStream(dctx, &output, &input);
      if (ZSTD_isError(remaining)) {
        const auto code = ZSTD_getErrorCode(remaining);
        ZSTD_DCtx_reset(dctx, ZSTD_reset_session_and_parameters);
        corrupt(in, out,
                code == ZSTD_error_dstSize_tooSmall ? "the frame holds more bytes"
                                                    : ZSTD_getErrorName(remaining));
      }
      if (remaining != 0 && input.pos == in_before && output.pos == out_before) {
        ZSTD_DCtx_reset(dctx, ZSTD_reset_session_and_parameters);
        corrupt(
            in, out,
            output.pos == output.size ? "the frame holds more bytes" : "the frame is truncated");
      }
    }
    ZSTD_DCtx_reset(dctx, ZSTD_reset_session_and_parameters);
    if (input.pos != input.size) {
      corrupt(in, out, fmt::format("{} bytes follow the frame", input.size - input.pos));
    }
    if (output.pos != output.size) {
      corrupt(in, out, fmt::format("the frame holds {} bytes", output.pos));
    }
  }
};

}  // namespace

std::unique_ptr<Codec> make_zstd_codec(const CodecSpec& spec) {
  const int level = spec.level == -1 ? kZstdDefaultLevel : spec.level;
  if (level < ZSTD_minCLevel() || level > ZSTD_maxCLevel()) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("zstd level {} is outside {}..{}", spec.level, ZSTD_minCLevel(),
                            ZSTD_maxCLevel()));
  }
  if (!spec.format.empty()) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("zstd format '{}' is not known; zstd has one format", spec.format));
  }
  return std::make_unique<ZstdCodec>(CodecSpec{.id = spec.id, .level = level});
}

}  // namespace larder::codec::detail
