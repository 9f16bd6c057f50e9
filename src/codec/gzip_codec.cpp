// gzip — DEFLATE (zlib) in one of two wrappers:
//   "zlib" RFC 1950, the bytes of HDF5's deflate filter and numcodecs' Zlib;
//   "gzip" RFC 1952, the bytes numcodecs' GZip reads.
// zlib counts in 32-bit uInt, so buffers are fed to it in pieces.
#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>
#include <limits>
#include <nlohmann/json.hpp>

#include "builtin_codecs.h"
#include "larder/core/error.h"

namespace larder::codec::detail {
namespace {

constexpr std::size_t kMaxPiece = std::numeric_limits<uInt>::max();
constexpr std::size_t kGzipExtraWrapper = 18 - 6;  // gzip header + trailer vs zlib's

// Moves the next piece of [*data, *data + *left) into a zlib counter.
void feed(Bytef*& next, uInt& avail, Bytef*& data, std::size_t& left) {
  if (avail != 0 || left == 0) return;
  const std::size_t piece = std::min(left, kMaxPiece);
  next = data;
  avail = static_cast<uInt>(piece);
  data += piece;
  left -= piece;
}

// Runs `step` (deflate or inflate) over all of `in` into `out`, feeding
// both in pieces zlib's 32-bit counters can hold, until it stops saying
// Z_OK; returns its last status.
template <class Step>
int pump(z_stream& s, std::span<const std::byte> in, std::span<std::byte> out, Step step) {
  // zlib's next_in is not const in its C API, but zlib never writes through it.
  auto* in_data = const_cast<Bytef*>(reinterpret_cast<const Bytef*>(in.data()));
  std::size_t in_left = in.size();
  auto* out_data = reinterpret_cast<Bytef*>(out.data());
  std::size_t out_left = out.size();
  Bytef none = 0;
  s.next_in = &none;
  s.next_out = &none;
  int status = Z_OK;
  while (status == Z_OK) {
    feed(s.next_in, s.avail_in, in_data, in_left);
    feed(s.next_out, s.avail_out, out_data, out_left);
    status = step(in_left == 0);
  }
  return status;
}

class GzipCodec final : public Codec {
 public:
  explicit GzipCodec(CodecSpec spec)
      : Codec(std::move(spec)), gzip_(this->spec().format == "gzip") {}

  std::size_t max_encoded_size(std::size_t n) const override {
    // zlib's bound for its default window and memLevel, which covers every level.
    return compressBound(n) + (gzip_ ? kGzipExtraWrapper : 0);
  }

  std::size_t encode_into(std::span<const std::byte> in, std::span<std::byte> out) const override {
    check_encode_capacity(*this, in.size(), out);
    z_stream s{};
    if (deflateInit2(&s, spec().level, Z_DEFLATED, window_bits(), 8, Z_DEFAULT_STRATEGY) != Z_OK) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("{}: deflateInit2 failed at level {}", name(), spec().level));
    }
    const int status =
        pump(s, in, out, [&](bool last) { return deflate(&s, last ? Z_FINISH : Z_NO_FLUSH); });
    const std::size_t written = s.total_out;
    deflateEnd(&s);
    if (status != Z_STREAM_END) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("{}: deflate failed with {} on {} bytes", name(), status, in.size()));
    }
    return written;
  }

  void decode(std::span<const std::byte> in, std::span<std::byte> out) const override {
    z_stream s{};
    if (inflateInit2(&s, window_bits()) != Z_OK) throw std::bad_alloc();
    const int status = pump(s, in, out, [&](bool) { return inflate(&s, Z_NO_FLUSH); });
    const std::size_t produced = s.total_out;
    const std::size_t consumed = s.total_in;
    const char* message = s.msg;
    inflateEnd(&s);
    if (status == Z_MEM_ERROR) throw std::bad_alloc();
    if (status == Z_STREAM_END) {
      if (produced != out.size())
        corrupt(in, out, fmt::format("the stream holds {} bytes", produced));
      if (consumed != in.size()) {
        corrupt(in, out, fmt::format("{} bytes follow the stream", in.size() - consumed));
      }
      return;
    }
    if (status == Z_BUF_ERROR) {
      corrupt(in, out,
              produced == out.size() ? "the stream holds more bytes" : "the stream is truncated");
    }
    corrupt(in, out, message != nullptr ? message : fmt::format("inflate returned {}", status));
  }

  std::optional<std::size_t> decoded_size(std::span<const std::byte>) const override {
    return std::nullopt;
  }

  Hdf5Filter hdf5_filter(std::size_t) const override {
    if (gzip_) {
      throw Error(ErrorCode::unsupported,
                  "gzip format 'gzip' has no HDF5 filter; use format 'zlib' (deflate, filter 1)");
    }
    return {
        .id = kHdf5Deflate, .name = "deflate", .cd_values = {static_cast<unsigned>(spec().level)}};
  }

  nlohmann::json numcodecs_config() const override {
    return {{"id", gzip_ ? "gzip" : "zlib"}, {"level", spec().level}};
  }

 private:
  int window_bits() const { return gzip_ ? 16 + MAX_WBITS : MAX_WBITS; }
  std::string name() const { return fmt::format("gzip ({})", spec().format); }

  [[noreturn]] void corrupt(std::span<const std::byte> in, std::span<std::byte> out,
                            std::string_view why) const {
    throw Error(ErrorCode::corrupt,
                fmt::format("{}: {}-byte input does not decode to the expected {} bytes: {}",
                            name(), in.size(), out.size(), why));
  }

  bool gzip_;
};

}  // namespace

std::unique_ptr<Codec> make_gzip_codec(const CodecSpec& spec) {
  CodecSpec normal{.id = spec.id,
                   .level = spec.level == -1 ? kGzipDefaultLevel : spec.level,
                   .format = spec.format.empty() ? "zlib" : spec.format};
  if (normal.format != "zlib" && normal.format != "gzip") {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("gzip format '{}' is not one of zlib, gzip", spec.format));
  }
  if (normal.level < 0 || normal.level > 9) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("gzip level {} is outside 0..9", spec.level));
  }
  return std::make_unique<GzipCodec>(std::move(normal));
}

}  // namespace larder::codec::detail
