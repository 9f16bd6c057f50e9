// `larder demo` — runs larder's main job on built-in example data, stage by
// stage. Each capability adds its stage here; today: codecs.
#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <vector>

#include "commands.h"
#include "larder/codec/chunked.h"
#include "larder/codec/registry.h"
#include "larder/core/array.h"
#include "larder/core/error.h"
#include "larder/core/hash.h"
#include "larder/core/parallel.h"
#include "terminal_progress.h"

namespace larder::cli {
namespace {

struct DemoOptions {
  double megabytes = 64;
  std::size_t chunk_kib = 1024;
  int threads = 0;  // 0: all cores
};

// A deterministic stand-in for a detector readout: smooth signals plus a
// little noise, as float32. Smooth enough to compress, noisy enough to be
// honest about it.
Array example_readout(std::size_t megabytes) {
  const auto count = static_cast<std::int64_t>(megabytes * 1024 * 1024 / sizeof(float));
  Array data = Array::empty(DType::float32(), Shape{count});
  auto values = data.values<float>();
  std::uint64_t state = 0x9e3779b97f4a7c15ull;
  for (std::int64_t i = 0; i < count; ++i) {
    state ^= state << 13;  // xorshift64: fast, seeded, good enough for noise
    state ^= state >> 7;
    state ^= state << 17;
    const double noise = static_cast<double>(state >> 40) / static_cast<double>(1 << 24) - 0.5;
    const double t = static_cast<double>(i);
    values[static_cast<std::size_t>(i)] =
        static_cast<float>(20.0 + 5.0 * std::sin(t * 1e-4) + std::sin(t * 3e-2) + 0.01 * noise);
  }
  return data;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void codec_stage(const DemoOptions& options) {
  fmt::print("== stage 1: codecs ==\n");
  const Array data = example_readout(static_cast<std::size_t>(options.megabytes));
  const auto input = data.bytes();
  const std::uint64_t checksum = xxh3_64(input);
  const std::size_t chunk_bytes = options.chunk_kib * 1024;
  fmt::print("example data: {} float32 values ({:.1f} MB), chunks of {} KiB, {} threads\n\n",
             data.num_elements(), static_cast<double>(input.size()) / 1e6, options.chunk_kib,
             max_concurrency());
  fmt::print("{:<22} {:>12} {:>7} {:>12} {:>12}  {}\n", "codec", "stored bytes", "ratio",
             "encode GB/s", "decode GB/s", "round trip");

  const auto& registry = codec::CodecRegistry::builtin();
  const auto infos = registry.list();
  TerminalProgress progress;
  std::vector<std::string> lines;
  {
    ProgressScope scope(progress, "codecs", static_cast<std::int64_t>(infos.size()));
    for (const auto& info : infos) {
      codec::CodecSpec spec{.id = info.id, .typesize = 4};
      const auto codec = registry.make(spec);
      auto start = std::chrono::steady_clock::now();
      const auto chunks = codec::encode_chunks(*codec, input, chunk_bytes);
      const double encode_s = seconds_since(start);
      std::size_t stored = 0;
      for (const auto& c : chunks) stored += c.size();

      Array back = Array::empty(DType::float32(), data.shape());
      start = std::chrono::steady_clock::now();
      codec::decode_chunks(*codec, chunks, back.bytes(), chunk_bytes);
      const double decode_s = seconds_since(start);
      const bool same = xxh3_64(back.bytes()) == checksum;
      if (!same) {
        throw Error(ErrorCode::corrupt,
                    fmt::format("codec {} did not round-trip the example data", spec.to_string()));
      }
      const double gb = static_cast<double>(input.size()) / 1e9;
      lines.push_back(fmt::format("{:<22} {:>12} {:>7.2f} {:>12.2f} {:>12.2f}  {}",
                                  codec->spec().to_string(), stored,
                                  static_cast<double>(input.size()) / static_cast<double>(stored),
                                  gb / encode_s, gb / decode_s, "ok (xxh3 matches)"));
      scope.advance(1);
    }
  }
  for (const auto& line : lines) fmt::print("{}\n", line);
  fmt::print("\n");
}

}  // namespace

void add_demo_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("demo", "Run larder's main job on built-in example data");
  auto options = std::make_shared<DemoOptions>();
  cmd->add_option("--megabytes", options->megabytes, "Size of the example data in MiB")
      ->check(CLI::Range(1.0, 4096.0))
      ->capture_default_str();
  cmd->add_option("--chunk-kib", options->chunk_kib, "Chunk size in KiB")
      ->check(CLI::Range(1, 1 << 20))
      ->capture_default_str();
  cmd->add_option("--threads", options->threads, "Worker threads (0: all cores)")
      ->check(CLI::Range(0, 1024));
  cmd->callback([options] {
    std::unique_ptr<ConcurrencyLimit> limit;
    if (options->threads > 0) limit = std::make_unique<ConcurrencyLimit>(options->threads);
    codec_stage(*options);
    fmt::print("demo finished: every stage ran and checked its results\n");
  });
}

}  // namespace larder::cli
