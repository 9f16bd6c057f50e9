// larder-bench-codec — encode and decode throughput of one codec on one input
// file, through larder's codec layer (--impl larder) or through the C
// libraries called directly with the same settings, chunking and threading
// (--impl direct), so that the two differ only by the codec layer.
//
// The input is read once, untimed. Each repetition encodes the whole buffer
// as independent chunks, decodes them back into a zeroed buffer, checks the
// result against the input (xxh3) and prints one JSON line on stdout:
// timings, GB/s of decoded bytes, compressed size, crc32 of the decoded
// bytes (the checksum bench/run.py compares across implementations) and ok.
// Warm-up repetitions are printed too, marked "warmup": true. On failure a
// line with "ok": false and "error" is printed and the exit status is 1.
// bench/run.py drives this program; see bench/README.md.

#include <blosc.h>
#include <lz4.h>
#include <tbb/blocked_range.h>
#include <tbb/global_control.h>
#include <tbb/parallel_for.h>
#include <zlib.h>
#include <zstd.h>

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "larder/codec/chunked.h"
#include "larder/codec/codec.h"
#include "larder/codec/codec_spec.h"
#include "larder/codec/registry.h"
#include "larder/core/hash.h"
#include "larder/core/parallel.h"

namespace {

using Bytes = std::span<const std::byte>;
using MutableBytes = std::span<std::byte>;

struct Settings {
  std::string impl = "larder";
  std::string codec = "none";
  int level = -1;  // -1: the codec's default
  std::string shuffle = "byte";
  int typesize = 4;
  std::string input;
  std::size_t chunk_bytes = std::size_t{1} << 20;
  int threads = 0;  // 0: every core
  int repeat = 5;
  int warmup = 1;
};

bool is_blosc(const std::string& codec_id) {
  return codec_id.starts_with("blosc-");
}

std::size_t chunk_count(std::size_t bytes, std::size_t chunk_bytes) {
  return (bytes + chunk_bytes - 1) / chunk_bytes;
}

// Chunk i of a buffer cut into equal chunks; the last one may be shorter.
template <typename T>
std::span<T> chunk_of(std::span<T> data, std::size_t chunk_bytes, std::size_t i) {
  const std::size_t begin = i * chunk_bytes;
  return data.subspan(begin, std::min(chunk_bytes, data.size() - begin));
}

// One implementation under test: encodes a buffer as chunks, keeps them, and
// decodes them back. encode() and decode() are what is timed.
class Implementation {
 public:
  virtual ~Implementation() = default;
  // Frees the chunks of the previous encode (untimed, before the next one).
  virtual void release() = 0;
  // Returns the total size of the encoded chunks.
  virtual std::size_t encode(Bytes data) = 0;
  // Decodes the chunks of the last encode into `out` (the input's size).
  virtual void decode(MutableBytes out) = 0;
  // Library names and versions, for the record.
  virtual std::string library() const = 0;
};

// ---------------------------------------------------------------- larder

class LarderImplementation final : public Implementation {
 public:
  LarderImplementation(const Settings& settings, int threads)
      : chunk_bytes_(settings.chunk_bytes), limit_(threads) {
    larder::codec::CodecSpec spec;
    spec.id = settings.codec;
    spec.level = settings.level;
    if (is_blosc(settings.codec)) {  // other codecs keep the defaults they ignore
      spec.shuffle = parse_shuffle(settings.shuffle);
      spec.typesize = settings.typesize;
    }
    codec_ = larder::codec::make_codec(spec);
  }

  void release() override { chunks_ = {}; }

  std::size_t encode(Bytes data) override {
    chunks_ = larder::codec::encode_chunks(*codec_, data, chunk_bytes_);
    std::size_t total = 0;
    for (const auto& chunk : chunks_)
      total += chunk.size();
    return total;
  }

  void decode(MutableBytes out) override {
    larder::codec::decode_chunks(*codec_, chunks_, out, chunk_bytes_);
  }

  std::string library() const override { return "larder " + codec_->spec().to_string(); }

 private:
  static larder::codec::Shuffle parse_shuffle(const std::string& name) {
    if (name == "none") return larder::codec::Shuffle::none;
    if (name == "bit") return larder::codec::Shuffle::bit;
    return larder::codec::Shuffle::byte;
  }

  std::size_t chunk_bytes_;
  larder::ConcurrencyLimit limit_;
  std::unique_ptr<larder::codec::Codec> codec_;
  std::vector<std::vector<std::byte>> chunks_;
};

// ---------------------------------------------------------------- direct

// One chunk through a C library, the way a careful caller would use it.
// Methods are called concurrently from several threads.
class ChunkCodec {
 public:
  virtual ~ChunkCodec() = default;
  virtual std::size_t max_encoded_size(std::size_t n) const = 0;
  virtual std::size_t encode(Bytes in, MutableBytes out) const = 0;
  virtual void decode(Bytes in, MutableBytes out) const = 0;
  virtual std::string library() const = 0;
};

class NoneChunkCodec final : public ChunkCodec {
 public:
  std::size_t max_encoded_size(std::size_t n) const override { return n; }
  std::size_t encode(Bytes in, MutableBytes out) const override {
    std::memcpy(out.data(), in.data(), in.size());
    return in.size();
  }
  void decode(Bytes in, MutableBytes out) const override {
    if (in.size() != out.size()) throw std::runtime_error("none: size mismatch");
    std::memcpy(out.data(), in.data(), in.size());
  }
  std::string library() const override { return "memcpy"; }
};

// blosc1's context API: no global state, one internal thread (the chunks are
// the unit of parallelism, as in larder).
class BloscChunkCodec final : public ChunkCodec {
 public:
  BloscChunkCodec(std::string compressor, int level, int shuffle, int typesize)
      : compressor_(std::move(compressor)), level_(level), shuffle_(shuffle), typesize_(typesize) {}

  std::size_t max_encoded_size(std::size_t n) const override { return n + BLOSC_MAX_OVERHEAD; }

  std::size_t encode(Bytes in, MutableBytes out) const override {
    const int n =
        blosc_compress_ctx(level_, shuffle_, static_cast<std::size_t>(typesize_), in.size(),
                           in.data(), out.data(), out.size(), compressor_.c_str(), /*blocksize=*/0,
                           /*numinternalthreads=*/1);
    if (n <= 0) throw std::runtime_error(fmt::format("blosc_compress_ctx returned {}", n));
    return static_cast<std::size_t>(n);
  }

  void decode(Bytes in, MutableBytes out) const override {
    const int n = blosc_decompress_ctx(in.data(), out.data(), out.size(), 1);
    if (n < 0 || static_cast<std::size_t>(n) != out.size()) {
      throw std::runtime_error(fmt::format("blosc_decompress_ctx returned {}", n));
    }
  }

  std::string library() const override {
    return fmt::format("blosc {} ({})", BLOSC_VERSION_STRING, compressor_);
  }

 private:
  std::string compressor_;
  int level_;
  int shuffle_;
  int typesize_;
};

// One compression and one decompression context per thread, reused across
// chunks: what a caller that cares about speed does.
class ZstdChunkCodec final : public ChunkCodec {
 public:
  explicit ZstdChunkCodec(int level) : level_(level) {}

  std::size_t max_encoded_size(std::size_t n) const override { return ZSTD_compressBound(n); }

  std::size_t encode(Bytes in, MutableBytes out) const override {
    thread_local const std::unique_ptr<ZSTD_CCtx, decltype(&ZSTD_freeCCtx)> context(
        ZSTD_createCCtx(), &ZSTD_freeCCtx);
    const std::size_t n =
        ZSTD_compressCCtx(context.get(), out.data(), out.size(), in.data(), in.size(), level_);
    if (ZSTD_isError(n)) throw std::runtime_error(ZSTD_getErrorName(n));
    return n;
  }

  void decode(Bytes in, MutableBytes out) const override {
    thread_local const std::unique_ptr<ZSTD_DCtx, decltype(&ZSTD_freeDCtx)> context(
        ZSTD_createDCtx(), &ZSTD_freeDCtx);
    const std::size_t n =
        ZSTD_decompressDCtx(context.get(), out.data(), out.size(), in.data(), in.size());
    if (ZSTD_isError(n)) throw std::runtime_error(ZSTD_getErrorName(n));
    if (n != out.size()) throw std::runtime_error("zstd: short decode");
  }

  std::string library() const override {
    return fmt::format("zstd {} (level {})", ZSTD_versionString(), level_);
  }

 private:
  int level_;
};

void store_be(std::byte* p, std::uint64_t value, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) {
    p[i] = static_cast<std::byte>(value & 0xff);
    value >>= 8;
  }
}

std::uint64_t load_be(const std::byte* p, int bytes) {
  std::uint64_t value = 0;
  for (int i = 0; i < bytes; ++i)
    value = (value << 8) | std::to_integer<std::uint64_t>(p[i]);
  return value;
}

// LZ4 in the framing of the HDF5 lz4 filter (id 32004), larder's default:
// big-endian total size (8 bytes) and block size (4 bytes), then per block
// its compressed size (4 bytes) and bytes; a block that does not shrink is
// stored raw. The filter's default block (1 GiB) covers any chunk here.
class Lz4Hdf5ChunkCodec final : public ChunkCodec {
 public:
  static constexpr std::size_t kHeader = 12;
  static constexpr std::size_t kDefaultBlock = std::size_t{1} << 30;

  std::size_t max_encoded_size(std::size_t n) const override {
    const std::size_t block = block_size(n);
    const std::size_t blocks = block == 0 ? 0 : chunk_count(n, block);
    return kHeader +
           blocks * (4 + static_cast<std::size_t>(LZ4_compressBound(static_cast<int>(block))));
  }

  std::size_t encode(Bytes in, MutableBytes out) const override {
    const std::size_t block = block_size(in.size());
    store_be(out.data(), in.size(), 8);
    store_be(out.data() + 8, block, 4);
    std::size_t pos = kHeader;
    for (std::size_t begin = 0; begin < in.size(); begin += block) {
      const Bytes raw = in.subspan(begin, std::min(block, in.size() - begin));
      std::byte* dest = out.data() + pos + 4;
      int n = LZ4_compress_default(reinterpret_cast<const char*>(raw.data()),
                                   reinterpret_cast<char*>(dest), static_cast<int>(raw.size()),
                                   static_cast<int>(out.size() - pos - 4));
      if (n <= 0 || static_cast<std::size_t>(n) >= raw.size()) {
        std::memcpy(dest, raw.data(), raw.size());
        n = static_cast<int>(raw.size());
      }
      store_be(out.data() + pos, static_cast<std::uint64_t>(n), 4);
      pos += 4 + static_cast<std::size_t>(n);
    }
    return pos;
  }

  void decode(Bytes in, MutableBytes out) const override {
    if (in.size() < kHeader || load_be(in.data(), 8) != out.size()) {
      throw std::runtime_error("lz4: bad header");
    }
    const std::size_t block = load_be(in.data() + 8, 4);
    if (block == 0 && !out.empty()) throw std::runtime_error("lz4: zero block size");
    std::size_t pos = kHeader;
    for (std::size_t begin = 0; begin < out.size(); begin += block) {
      const std::size_t raw_size = std::min(block, out.size() - begin);
      if (pos + 4 > in.size()) throw std::runtime_error("lz4: truncated");
      const std::size_t n = load_be(in.data() + pos, 4);
      pos += 4;
      if (n > in.size() - pos) throw std::runtime_error("lz4: truncated block");
      if (n == raw_size) {
        std::memcpy(out.data() + begin, in.data() + pos, n);
      } else {
        const int got = LZ4_decompress_safe(reinterpret_cast<const char*>(in.data() + pos),
                                            reinterpret_cast<char*>(out.data() + begin),
                                            static_cast<int>(n), static_cast<int>(raw_size));
        if (got < 0 || static_cast<std::size_t>(got) != raw_size) {
          throw std::runtime_error("lz4: corrupt block");
        }
      }
      pos += n;
    }
  }

  std::string library() const override {
    return fmt::format("lz4 {} (hdf5 framing)", LZ4_versionString());
  }

 private:
  static std::size_t block_size(std::size_t n) { return std::min(n, kDefaultBlock); }
};

// zlib's one-call API (RFC 1950 bytes), as the HDF5 deflate filter uses it.
class ZlibChunkCodec final : public ChunkCodec {
 public:
  explicit ZlibChunkCodec(int level) : level_(level) {}

  std::size_t max_encoded_size(std::size_t n) const override { return compressBound(n); }

  std::size_t encode(Bytes in, MutableBytes out) const override {
    uLongf n = out.size();
    const int rc = compress2(reinterpret_cast<Bytef*>(out.data()), &n,
                             reinterpret_cast<const Bytef*>(in.data()), in.size(), level_);
    if (rc != Z_OK) throw std::runtime_error(fmt::format("compress2 returned {}", rc));
    return n;
  }

  void decode(Bytes in, MutableBytes out) const override {
    uLongf n = out.size();
    const int rc = uncompress(reinterpret_cast<Bytef*>(out.data()), &n,
                              reinterpret_cast<const Bytef*>(in.data()), in.size());
    if (rc != Z_OK || n != out.size()) {
      throw std::runtime_error(fmt::format("uncompress returned {}", rc));
    }
  }

  std::string library() const override {
    return fmt::format("zlib {} (level {})", zlibVersion(), level_);
  }

 private:
  int level_;
};

std::unique_ptr<ChunkCodec> make_chunk_codec(const Settings& s) {
  if (s.codec == "none") return std::make_unique<NoneChunkCodec>();
  if (is_blosc(s.codec)) {
    const int shuffle = s.shuffle == "none"  ? BLOSC_NOSHUFFLE
                        : s.shuffle == "bit" ? BLOSC_BITSHUFFLE
                                             : BLOSC_SHUFFLE;
    return std::make_unique<BloscChunkCodec>(s.codec.substr(6), s.level < 0 ? 5 : s.level, shuffle,
                                             s.typesize);
  }
  if (s.codec == "zstd") return std::make_unique<ZstdChunkCodec>(s.level < 0 ? 3 : s.level);
  if (s.codec == "gzip") return std::make_unique<ZlibChunkCodec>(s.level < 0 ? 6 : s.level);
  if (s.codec == "lz4") {
    // Which acceleration larder's lz4 level would mean is larder's business;
    // the direct run only knows the default.
    if (s.level != -1) throw std::invalid_argument("direct lz4 takes no --level");
    return std::make_unique<Lz4Hdf5ChunkCodec>();
  }
  throw std::invalid_argument(fmt::format("direct: unknown codec '{}'", s.codec));
}

// The chunks live in buffers of the largest encoded size, allocated once:
// the direct run measures the libraries alone, not allocation.
class DirectImplementation final : public Implementation {
 public:
  DirectImplementation(const Settings& settings, std::size_t input_bytes, int threads)
      : codec_(make_chunk_codec(settings)), chunk_bytes_(settings.chunk_bytes), threads_(threads) {
    const std::size_t n = chunk_count(input_bytes, chunk_bytes_);
    buffers_.resize(n);
    sizes_.assign(n, 0);
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t raw = std::min(chunk_bytes_, input_bytes - i * chunk_bytes_);
      buffers_[i].resize(codec_->max_encoded_size(raw));
    }
    if (threads_ > 1) {
      control_.emplace(tbb::global_control::max_allowed_parallelism,
                       static_cast<std::size_t>(threads_));
    }
  }

  void release() override {}

  std::size_t encode(Bytes data) override {
    for_each_chunk([&](std::size_t i) {
      sizes_[i] = codec_->encode(chunk_of(data, chunk_bytes_, i), buffers_[i]);
    });
    std::size_t total = 0;
    for (const std::size_t n : sizes_)
      total += n;
    return total;
  }

  void decode(MutableBytes out) override {
    for_each_chunk([&](std::size_t i) {
      codec_->decode(Bytes(buffers_[i]).first(sizes_[i]), chunk_of(out, chunk_bytes_, i));
    });
  }

  std::string library() const override { return codec_->library(); }

 private:
  template <typename Body>
  void for_each_chunk(const Body& body) {
    if (threads_ == 1) {
      for (std::size_t i = 0; i < buffers_.size(); ++i)
        body(i);
      return;
    }
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, buffers_.size(), 1),
                      [&](const tbb::blocked_range<std::size_t>& range) {
                        for (std::size_t i = range.begin(); i != range.end(); ++i)
                          body(i);
                      });
  }

  std::unique_ptr<ChunkCodec> codec_;
  std::size_t chunk_bytes_;
  int threads_;
  std::optional<tbb::global_control> control_;
  std::vector<std::vector<std::byte>> buffers_;
  std::vector<std::size_t> sizes_;
};

// ---------------------------------------------------------------- driver

std::vector<std::byte> read_file(const std::string& path) {
  const auto size = static_cast<std::size_t>(std::filesystem::file_size(path));
  std::vector<std::byte> data(size);
  const std::unique_ptr<std::FILE, decltype(&std::fclose)> file(std::fopen(path.c_str(), "rb"),
                                                                &std::fclose);
  if (!file) throw std::runtime_error(fmt::format("cannot open {}", path));
  if (std::fread(data.data(), 1, size, file.get()) != size) {
    throw std::runtime_error(fmt::format("short read from {}", path));
  }
  return data;
}

std::string crc32_hex(Bytes data) {
  const auto crc = crc32_z(0, reinterpret_cast<const Bytef*>(data.data()), data.size());
  return fmt::format("{:08x}", crc);
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

nlohmann::ordered_json describe(const Settings& s, int threads, std::size_t bytes) {
  return {{"impl", s.impl},
          {"codec", s.codec},
          {"level", s.level},
          {"shuffle", is_blosc(s.codec) ? s.shuffle : "none"},
          {"typesize", s.typesize},
          {"threads", threads},
          {"chunk_bytes", s.chunk_bytes},
          {"chunks", chunk_count(bytes, s.chunk_bytes)},
          {"bytes", bytes}};
}

void print(const nlohmann::ordered_json& line) {
  std::cout << line.dump() << std::endl;
}

int run(const Settings& s) {
  const int threads = s.threads > 0
                          ? s.threads
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const std::vector<std::byte> input = read_file(s.input);
  const std::uint64_t input_hash = larder::xxh3_64(input);
  std::vector<std::byte> decoded(input.size());

  std::unique_ptr<Implementation> impl;
  if (s.impl == "larder") {
    impl = std::make_unique<LarderImplementation>(s, threads);
  } else if (s.impl == "direct") {
    impl = std::make_unique<DirectImplementation>(s, input.size(), threads);
  } else {
    throw std::invalid_argument(fmt::format("unknown --impl '{}'", s.impl));
  }

  bool all_ok = true;
  for (int r = -s.warmup; r < s.repeat; ++r) {
    impl->release();
    const auto encode_start = std::chrono::steady_clock::now();
    const std::size_t compressed = impl->encode(input);
    const double encode_s = seconds_since(encode_start);

    // Zeroed so that a decode which writes nothing cannot pass.
    std::memset(decoded.data(), 0, decoded.size());
    const auto decode_start = std::chrono::steady_clock::now();
    impl->decode(decoded);
    const double decode_s = seconds_since(decode_start);

    const bool ok = larder::xxh3_64(decoded) == input_hash;
    all_ok = all_ok && ok;
    const double gb = static_cast<double>(input.size()) / 1e9;
    auto line = describe(s, threads, input.size());
    line["library"] = impl->library();
    line["repeat"] = r;
    line["warmup"] = r < 0;
    line["encode_s"] = encode_s;
    line["decode_s"] = decode_s;
    line["encode_gbps"] = gb / encode_s;
    line["decode_gbps"] = gb / decode_s;
    line["compressed_bytes"] = compressed;
    line["ratio"] =
        compressed == 0 ? 0.0 : static_cast<double>(input.size()) / static_cast<double>(compressed);
    line["crc32"] = crc32_hex(decoded);
    line["ok"] = ok;
    print(line);
  }
  return all_ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Settings s;
  CLI::App app{"Encode/decode throughput of one codec; one JSON line per repetition."};
  app.add_option("--impl", s.impl, "larder | direct")->check(CLI::IsMember({"larder", "direct"}));
  app.add_option("--codec", s.codec, "codec id: none, lz4, zstd, gzip, blosc-lz4, blosc-zstd, ...")
      ->required();
  app.add_option("--level", s.level, "compression level; -1: the codec's default");
  app.add_option("--shuffle", s.shuffle, "blosc shuffle: none | byte | bit")
      ->check(CLI::IsMember({"none", "byte", "bit"}));
  app.add_option("--typesize", s.typesize, "element size the blosc shuffle works on")
      ->check(CLI::PositiveNumber);
  app.add_option("--input", s.input, "raw input file")->required()->check(CLI::ExistingFile);
  app.add_option("--chunk-bytes", s.chunk_bytes, "decoded bytes per chunk")
      ->check(CLI::PositiveNumber);
  app.add_option("--threads", s.threads, "threads; 0: every core")->check(CLI::NonNegativeNumber);
  app.add_option("--repeat", s.repeat, "timed repetitions")->check(CLI::NonNegativeNumber);
  app.add_option("--warmup", s.warmup, "untimed repetitions first")->check(CLI::NonNegativeNumber);
  CLI11_PARSE(app, argc, argv);

  try {
    return run(s);
  } catch (const std::exception& e) {
    auto line = describe(s, s.threads, 0);
    line["ok"] = false;
    line["error"] = e.what();
    print(line);
    std::cerr << "larder-bench-codec: " << e.what() << '\n';
    return 1;
  }
}
