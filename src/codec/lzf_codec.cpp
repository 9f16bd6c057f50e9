// lzf — a raw LZF stream (Marc Lehmann's liblzf format, no header), the bytes
// of h5py's HDF5 filter 32000. larder's own encoder and decoder.
//
// The stream is a sequence of tokens, each starting with a control byte c:
//   c < 32   a literal run: the next c + 1 bytes are copied to the output.
//   c >= 32  a back-reference: length field L = c >> 5 (when L == 7 one more
//            byte follows and is added to L), then one byte o; the output
//            repeats L + 2 bytes starting ((c & 0x1f) << 8) + o + 1 bytes
//            back. Source and destination may overlap (a run).
// So a match is 3..264 bytes long and reaches at most 8192 bytes back.
//
// The encoder is a greedy single-pass matcher over a hash table of 3-byte
// prefixes. Its output is a valid stream that liblzf decodes, not
// byte-identical to liblzf's (the format leaves the match choice free).
#include <fmt/format.h>

#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>

#include "builtin_codecs.h"
#include "larder/core/error.h"

namespace larder::codec::detail {
namespace {

constexpr std::size_t kMaxLiteralRun = 32;
constexpr std::size_t kMinMatch = 3;
constexpr std::size_t kMaxMatch = 7 + 255 + 2;
constexpr std::size_t kMaxOffset = std::size_t{1} << 13;
constexpr int kHashBits = 14;

// Every byte as a literal: one control byte per run of 32.
constexpr std::size_t all_literal_size(std::size_t n) {
  return n + (n + kMaxLiteralRun - 1) / kMaxLiteralRun;
}

std::uint32_t hash3(const std::uint8_t* p) {
  const std::uint32_t v = static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
                          static_cast<std::uint32_t>(p[2]) << 16;
  return (v * 2654435761u) >> (32 - kHashBits);
}

// Writes tokens into a buffer of at least all_literal_size(input) bytes.
//
// Why that bound holds: a literal run of k bytes costs k + 1 bytes at most
// ceil(k / 32) control bytes; a match of m >= 3 bytes costs at most m - 1
// (2 bytes up to m = 8, 3 beyond). Splitting a literal stretch around a
// match adds at most one control byte, which the match's saving pays for,
// so no stream is longer than all literals. The capacity checks below are
// therefore never hit; they keep a mistake in that argument from writing
// out of bounds.
class TokenWriter {
 public:
  explicit TokenWriter(std::span<std::byte> out) : out_(out) {}

  void literals(const std::uint8_t* data, std::size_t n) {
    while (n > 0) {
      const std::size_t run = std::min(n, kMaxLiteralRun);
      reserve(run + 1);
      out_[pos_++] = static_cast<std::byte>(run - 1);
      std::memcpy(out_.data() + pos_, data, run);
      pos_ += run;
      data += run;
      n -= run;
    }
  }

  void match(std::size_t length, std::size_t offset) {
    reserve(3);
    const std::size_t len_field = length - 2;
    const std::size_t off_field = offset - 1;
    const auto high = static_cast<std::uint8_t>(off_field >> 8);
    if (len_field < 7) {
      out_[pos_++] = static_cast<std::byte>(len_field << 5 | high);
    } else {
      out_[pos_++] = static_cast<std::byte>(7 << 5 | high);
      out_[pos_++] = static_cast<std::byte>(len_field - 7);
    }
    out_[pos_++] = static_cast<std::byte>(off_field & 0xff);
  }

  std::size_t size() const { return pos_; }

 private:
  void reserve(std::size_t n) const {
    if (out_.size() - pos_ < n) {
      throw Error(
          ErrorCode::invalid_argument,
          fmt::format("lzf: encoder overran its {}-byte bound (a larder bug)", out_.size()));
    }
  }

  std::span<std::byte> out_;
  std::size_t pos_ = 0;
};

std::size_t compress(std::span<const std::byte> in, std::span<std::byte> out) {
  const auto* p = reinterpret_cast<const std::uint8_t*>(in.data());
  const std::size_t n = in.size();
  TokenWriter writer(out);
  // Position + 1 of the last 3-byte prefix with each hash; 0: none yet.
  // Positions wrap in inputs over 4 GiB; that only loses matches, since a
  // candidate is checked (distance, bytes) before it is used.
  std::vector<std::uint32_t> last_seen(std::size_t{1} << kHashBits, 0);
  std::size_t literal_start = 0;
  std::size_t i = 0;
  while (i + kMinMatch <= n) {
    const std::uint32_t h = hash3(p + i);
    const std::uint32_t seen = last_seen[h];
    last_seen[h] = static_cast<std::uint32_t>(i + 1);
    const std::size_t candidate = seen == 0 ? i : static_cast<std::size_t>(seen - 1);
    const bool usable = seen != 0 && candidate < i && i - candidate <= kMaxOffset &&
                        std::memcmp(p + candidate, p + i, kMinMatch) == 0;
    if (!usable) {
      ++i;
      continue;
    }
    const std::size_t limit = std::min(kMaxMatch, n - i);
    std::size_t length = kMinMatch;
    while (length < limit && p[candidate + length] == p[i + length])
      ++length;
    writer.literals(p + literal_start, i - literal_start);
    writer.match(length, i - candidate);
    for (std::size_t k = i + 1; k < i + length && k + kMinMatch <= n; ++k)
      last_seen[hash3(p + k)] = static_cast<std::uint32_t>(k + 1);
    i += length;
    literal_start = i;
  }
  writer.literals(p + literal_start, n - literal_start);
  return writer.size();
}

[[noreturn]] void corrupt(std::span<const std::byte> in, std::span<std::byte> out,
                          std::string_view why) {
  throw Error(ErrorCode::corrupt,
              fmt::format("lzf: {}-byte input does not decode to the expected {} bytes: {}",
                          in.size(), out.size(), why));
}

void decompress(std::span<const std::byte> in, std::span<std::byte> out) {
  const auto* ip = reinterpret_cast<const std::uint8_t*>(in.data());
  auto* op = reinterpret_cast<std::uint8_t*>(out.data());
  const std::size_t in_size = in.size();
  const std::size_t out_size = out.size();
  std::size_t i = 0;
  std::size_t o = 0;
  while (i < in_size) {
    const std::size_t token = i;
    const unsigned ctrl = ip[i++];
    if (ctrl < kMaxLiteralRun) {
      const std::size_t run = ctrl + 1;
      if (run > in_size - i) {
        corrupt(in, out,
                fmt::format("the literal run of {} bytes at offset {} passes the input's end", run,
                            token));
      }
      if (run > out_size - o) {
        corrupt(in, out,
                fmt::format("the literal run at offset {} passes the output's end", token));
      }
      std::memcpy(op + o, ip + i, run);
      i += run;
      o += run;
      continue;
    }
    std::size_t length = ctrl >> 5;
    if (length == 7) {
      if (i == in_size) corrupt(in, out, fmt::format("the match at offset {} is cut off", token));
      length += ip[i++];
    }
    if (i == in_size) corrupt(in, out, fmt::format("the match at offset {} is cut off", token));
    const std::size_t offset = ((static_cast<std::size_t>(ctrl) & 0x1f) << 8) + ip[i++] + 1;
    length += 2;
    if (offset > o) {
      corrupt(in, out,
              fmt::format("the match at offset {} reaches {} bytes back from output byte {}", token,
                          offset, o));
    }
    if (length > out_size - o) {
      corrupt(in, out, fmt::format("the match at offset {} passes the output's end", token));
    }
    const std::uint8_t* from = op + o - offset;
    if (offset >= length) {
      std::memcpy(op + o, from, length);
    } else {
      // An overlapping match repeats the bytes it is writing.
      for (std::size_t k = 0; k < length; ++k)
        op[o + k] = from[k];
    }
    o += length;
  }
  if (o != out_size) corrupt(in, out, fmt::format("the stream holds {} bytes", o));
}

class LzfCodec final : public Codec {
 public:
  explicit LzfCodec(CodecSpec spec) : Codec(std::move(spec)) {}

  std::size_t max_encoded_size(std::size_t n) const override { return all_literal_size(n); }

  std::size_t encode_into(std::span<const std::byte> in, std::span<std::byte> out) const override {
    check_encode_capacity(*this, in.size(), out);
    return compress(in, out);
  }

  void decode(std::span<const std::byte> in, std::span<std::byte> out) const override {
    decompress(in, out);
  }

  // An LZF stream does not record its decoded size; h5py's filter keeps it
  // in cd_values[2].
  std::optional<std::size_t> decoded_size(std::span<const std::byte>) const override {
    return std::nullopt;
  }

  Hdf5Filter hdf5_filter(std::size_t chunk_bytes) const override {
    if (chunk_bytes > std::numeric_limits<unsigned>::max()) {
      throw Error(ErrorCode::unsupported,
                  fmt::format("lzf: HDF5 chunks of {} bytes do not fit the lzf filter's "
                              "cd_values (at most {} bytes)",
                              chunk_bytes, std::numeric_limits<unsigned>::max()));
    }
    return {
        .id = kHdf5Lzf,
        .name = "lzf",
        .cd_values = {kLzfFilterRevision, kLzfLibraryVersion, static_cast<unsigned>(chunk_bytes)}};
  }

  nlohmann::json numcodecs_config() const override {
    throw Error(ErrorCode::unsupported,
                "lzf has no numcodecs codec; it is stored in HDF5 only (filter 32000)");
  }
};

}  // namespace

std::unique_ptr<Codec> make_lzf_codec(const CodecSpec& spec) {
  if (!spec.format.empty()) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("lzf format '{}' is not known; lzf has one format", spec.format));
  }
  // LZF has no levels: like every unused setting, a level is dropped.
  return std::make_unique<LzfCodec>(CodecSpec{.id = spec.id});
}

}  // namespace larder::codec::detail
