// `larder demo` — runs larder's main job on built-in example data, stage by
// stage. Each capability adds its stage here; today: codecs, storage (HDF5),
// memory-mapped storage, ragged records, cut expressions, collections and
// a loader's epoch, a traced pipeline on a 3-D volume, and a parameter
// sweep loaded into a data tree.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include "commands.h"
#include "larder/codec/chunked.h"
#include "larder/codec/registry.h"
#include "larder/collection/collection.h"
#include "larder/core/array.h"
#include "larder/core/error.h"
#include "larder/core/hash.h"
#include "larder/core/parallel.h"
#include "larder/core/random.h"
#include "larder/expr/cut.h"
#include "larder/loader/loader.h"
#include "larder/ragged/ragged.h"
#include "larder/store/copy.h"
#include "larder/store/store.h"
#include "larder/trace/data.h"
#include "larder/trace/trace.h"
#include "larder/tree/data_manager.h"
#include "larder/tree/pspace.h"
#include "larder/tree/select.h"
#include "larder/tree/yaml.h"
#include "terminal_progress.h"

namespace larder::cli {
namespace {

struct DemoOptions {
  double megabytes = 64;
  std::size_t chunk_kib = 1024;
  int threads = 0;  // 0: all cores
  std::string workdir = "larder-demo";
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
      for (const auto& c : chunks)
        stored += c.size();

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
  for (const auto& line : lines)
    fmt::print("{}\n", line);
  fmt::print("\n");
}

// An event stream: 16 float32 readings per event, appended in batches to an
// extendable, compressed array; read back whole, sliced and gathered.
void storage_stage(const DemoOptions& options) {
  fmt::print("== stage 2: storage (HDF5) ==\n");
  std::filesystem::create_directories(options.workdir);
  const std::string file = (std::filesystem::path(options.workdir) / "events.h5").string();
  const Array readout = example_readout(static_cast<std::size_t>(options.megabytes));
  constexpr std::int64_t kColumns = 16;
  constexpr std::int64_t kBatch = 4096;
  const std::int64_t rows = readout.num_elements() / kColumns;
  const Array events =
      Array::copy_of(ArrayView(readout.data(), DType::float32(), Shape{rows, kColumns}));

  auto start = std::chrono::steady_clock::now();
  {
    auto st = store::Store::open(file, "w");
    auto group = st->root()->create_group("run1");
    group->attrs().set("detector", "demo readout");
    group->attrs().set("columns", kColumns);
    auto ds = group->create_dataset("events", {.dtype = DType::float32(),
                                               .shape = Shape{0, kColumns},
                                               .chunks = {kBatch, kColumns},
                                               .codec = {.id = "blosc-lz4", .level = 5},
                                               .extendable = true});
    for (std::int64_t begin = 0; begin < rows; begin += kBatch) {
      ds->append(
          take(events, Selection{AxisSelection::slice(begin, std::min(rows, begin + kBatch))}));
    }
  }
  const double write_s = seconds_since(start);

  auto st = store::Store::open(file, "r");
  auto ds = st->root()->open_dataset("run1/events");
  start = std::chrono::steady_clock::now();
  const Array back = ds->read();
  const double read_s = seconds_since(start);
  if (xxh3_64(back.bytes()) != xxh3_64(events.bytes())) {
    throw Error(ErrorCode::corrupt, "the stored events do not read back as written", file,
                ds->path());
  }
  std::vector<std::int64_t> ids(100000);
  std::uint64_t state = 7;
  for (auto& id : ids) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    id = static_cast<std::int64_t>((state >> 33) % static_cast<std::uint64_t>(rows));
  }
  start = std::chrono::steady_clock::now();
  const Array picked = ds->gather(ids);
  const double gather_s = seconds_since(start);
  for (std::size_t i = 0; i < ids.size(); i += 997) {
    const auto want = events.values<float>()[static_cast<std::size_t>(ids[i] * kColumns)];
    if (picked.values<float>()[i * kColumns] != want) {
      throw Error(ErrorCode::corrupt, fmt::format("gathered row {} differs", ids[i]), file,
                  ds->path());
    }
  }
  const double gb = static_cast<double>(events.nbytes()) / 1e9;
  fmt::print(
      "appended {} rows in batches of {}: {:.2f} GB/s; read back {:.2f} GB/s (xxh3 matches); "
      "gathered {} random rows: {:.2f} M rows/s (checked)\n\n",
      rows, kBatch, gb / write_s, gb / read_s, ids.size(),
      static_cast<double>(ids.size()) / gather_s / 1e6);
  st->close();
  fmt::print("$ larder info {}\n", file);
  print_info(file, "", false, true);
  fmt::print("\n");
}

// The stage-2 events copied into a memory-mapped store (what `larder cp
// events.h5 events.lmm` does), then scanned and gathered from its mapping.
void mmap_stage(const DemoOptions& options) {
  fmt::print("== stage 3: storage (memory-mapped) ==\n");
  const auto dir = std::filesystem::path(options.workdir);
  const std::string source = (dir / "events.h5").string();
  const std::string target = (dir / "events.lmm").string();
  auto start = std::chrono::steady_clock::now();
  {
    auto from = store::Store::open(source, "r");
    auto to = store::Store::open(target, "w");
    store::copy(*from->root(), "run1", *to->root(), "run1");
  }
  const double copy_s = seconds_since(start);

  auto h5 = store::Store::open(source, "r");
  const Array want = h5->root()->open_dataset("run1/events")->read();
  auto st = store::Store::open(target, "r");
  auto ds = st->root()->open_dataset("run1/events");
  const std::int64_t rows = ds->shape()[0];
  constexpr std::int64_t kBatch = 4096;
  start = std::chrono::steady_clock::now();
  std::uint64_t checksum = 0;
  double sum = 0;
  for (std::int64_t begin = 0; begin < rows; begin += kBatch) {
    const Array batch =
        ds->read(Selection{AxisSelection::slice(begin, std::min(rows, begin + kBatch))});
    for (float v : batch.values<float>())
      sum += v;
    checksum ^= xxh3_64(batch.bytes()) + static_cast<std::uint64_t>(begin);
  }
  const double scan_s = seconds_since(start);
  std::uint64_t expected = 0;
  for (std::int64_t begin = 0; begin < rows; begin += kBatch) {
    const Array batch =
        take(want, Selection{AxisSelection::slice(begin, std::min(rows, begin + kBatch))});
    expected ^= xxh3_64(batch.bytes()) + static_cast<std::uint64_t>(begin);
  }
  if (checksum != expected || !std::isfinite(sum)) {
    throw Error(ErrorCode::corrupt, "the memory-mapped copy does not read back as the HDF5 one",
                target, ds->path());
  }
  const double gb = static_cast<double>(want.nbytes()) / 1e9;
  fmt::print(
      "copied run1 from HDF5: {:.2f} GB/s; scanned {} rows in batches of {} as zero-copy views of "
      "the mapping: {:.2f} GB/s (xxh3 matches)\n\n",
      gb / copy_s, rows, kBatch, gb / scan_s);
  st->close();
  fmt::print("$ larder info {}\n", target);
  print_info(target, "", false, true);
  fmt::print("\n");
}

// Jets per event: each event holds a variable number of jet transverse
// momenta. Built in a memory store, saved into the stage-2 HDF5 file
// compressed, then read back whole, gathered at random and padded to a fixed
// width, as a training loop would take them.
void ragged_stage(const DemoOptions& options) {
  fmt::print("== stage 4: ragged records ==\n");
  const std::string file = (std::filesystem::path(options.workdir) / "events.h5").string();
  const auto events = static_cast<std::int64_t>(options.megabytes * 4096);
  std::uint64_t state = 0x2545f4914f6cdd1dull;
  const auto uniform = [&state] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return static_cast<double>(state >> 11) / 9007199254740992.0;
  };
  std::vector<std::int64_t> lengths(static_cast<std::size_t>(events));
  std::vector<float> pt;
  for (auto& n : lengths) {
    const double limit = std::exp(-6.0);  // Poisson(6) jets, by Knuth's product of uniforms
    double product = uniform();
    for (n = 0; product > limit; ++n)
      product *= uniform();
    for (std::int64_t k = 0; k < n; ++k)  // falling spectrum, GeV, to 0.01
      pt.push_back(std::round(100.0f * static_cast<float>(25.0 - 30.0 * std::log(uniform()))) /
                   100.0f);
  }
  const Array values = Array::from_values<float>(pt);

  auto start = std::chrono::steady_clock::now();
  {
    auto scratch = store::Store::memory();
    auto jets =
        ragged::Ragged::create(*scratch->root(), "run1/jet_pt", {.dtype = DType::float32()});
    constexpr std::size_t kBatch = 10000;  // events per extend
    std::int64_t at = 0;
    for (std::size_t first = 0; first < lengths.size(); first += kBatch) {
      const auto batch =
          std::span(lengths).subspan(first, std::min(kBatch, lengths.size() - first));
      std::int64_t items = 0;
      for (const std::int64_t n : batch)
        items += n;
      jets->extend(take(values, Selection{AxisSelection::slice(at, at + items)}), batch);
      at += items;
    }
    jets->attrs().set("unit", "GeV");
    auto out = store::Store::open(file, "a");
    store::copy(*scratch->root(), "run1/jet_pt", *out->root(), "run1/jet_pt",
                {.codec = codec::CodecSpec{.id = "blosc-lz4", .level = 5}});
  }
  const double build_s = seconds_since(start);

  auto st = store::Store::open(file, "r");
  auto jets = ragged::Ragged::open(*st->root(), "run1/jet_pt");
  start = std::chrono::steady_clock::now();
  const ragged::Records all = jets->read(0, jets->size());
  const double read_s = seconds_since(start);
  if (jets->size() != events || xxh3_64(all.values.bytes()) != xxh3_64(values.bytes())) {
    throw Error(ErrorCode::corrupt, "the stored jets do not read back as written", file,
                jets->path());
  }
  std::vector<std::int64_t> ids(10000);
  for (auto& id : ids)
    id = static_cast<std::int64_t>(uniform() * static_cast<double>(events));
  start = std::chrono::steady_clock::now();
  const ragged::Records picked = jets->gather(ids);
  const Array padded = jets->padded(ids, 22, std::nan(""));
  const double gather_s = seconds_since(start);
  for (std::size_t i = 0; i < ids.size(); i += 97) {
    const ArrayView got = picked[static_cast<std::int64_t>(i)];
    const ArrayView want = all[ids[i]];
    const auto row = padded.values<float>().subspan(i * 22, 22);
    const std::int64_t kept = std::min<std::int64_t>(want.shape()[0], 22);
    if (got.shape() != want.shape() ||
        std::memcmp(got.data(), want.data(), want.num_elements() * sizeof(float)) != 0 ||
        std::memcmp(row.data(), want.data(), static_cast<std::size_t>(kept) * sizeof(float)) != 0 ||
        (kept < 22 && !std::isnan(row[static_cast<std::size_t>(kept)]))) {
      throw Error(ErrorCode::corrupt, fmt::format("gathered event {} differs", ids[i]), file,
                  jets->path());
    }
  }
  fmt::print(
      "{} events, {} jets (Poisson(6) per event): built in a memory store and saved compressed "
      "in {:.0f} ms; read all back at {:.1f} M events/s (xxh3 matches); gathered {} random events "
      "and padded them to 22 jets with NaN: {:.2f} M events/s (checked)\n\n",
      events, pt.size(), build_s * 1e3, static_cast<double>(events) / read_s / 1e6, ids.size(),
      static_cast<double>(ids.size()) / gather_s / 1e6);
  st->close();
  fmt::print("$ larder info {}:run1\n", file);
  print_info(file, "run1", false, false);
  fmt::print("\n");
}

// The stage-4 events as a collection: per event the jets (ragged), their
// count and the leading jet's momentum, split 80/10/10 after a seeded
// shuffle, compiled, and checked after reopening.
void collection_stage(const DemoOptions& options) {
  fmt::print("== stage 6: collections and a loader ==\n");
  const std::string source = (std::filesystem::path(options.workdir) / "events.h5").string();
  const std::string file = (std::filesystem::path(options.workdir) / "collection.h5").string();
  auto events = store::Store::open(source, "r");
  const auto jets = ragged::Ragged::open(*events->root(), "run1/jet_pt");
  const ragged::Records all = jets->read(0, jets->size());
  const std::int64_t n = all.size();
  std::vector<std::int32_t> counts(static_cast<std::size_t>(n));
  std::vector<float> lead(static_cast<std::size_t>(n), std::nanf(""));
  for (std::int64_t i = 0; i < n; ++i) {
    const auto record = all[i].values<float>();
    counts[static_cast<std::size_t>(i)] = static_cast<std::int32_t>(record.size());
    for (float pt : record) {
      auto& l = lead[static_cast<std::size_t>(i)];
      if (std::isnan(l) || pt > l) l = pt;
    }
  }
  const Array n_jets = Array::from_values<std::int32_t>(counts);
  const Array lead_pt = Array::from_values<float>(lead);

  auto start = std::chrono::steady_clock::now();
  {
    auto out = store::Store::open(file, "w");
    auto c = collection::Collection::open(out->root(), "higgs",
                                          {.codec = {.id = "blosc-lz4", .level = 5}});
    c->add({{"jet_pt", all}, {"n_jets", n_jets}, {"lead_pt", lead_pt}},
           collection::Split::fractions({0.8, 0.1, 0.1}), 1);
    c->compile();
  }
  const double build_s = seconds_since(start);

  auto st = store::Store::open(file, "r");
  auto c = collection::Collection::open(st->root(), "higgs");
  const auto metadata = c->metadata();
  if (!metadata || metadata->total != n) {
    throw Error(ErrorCode::corrupt, "the collection's metadata did not survive reopening", file,
                "/higgs");
  }
  // Every event landed in exactly one phase, its jets beside their count.
  std::int64_t seen = 0;
  for (const auto& phase : metadata->phases) {
    const Array count = c->get(phase.name, "n_jets", AxisSelection::all());
    const ragged::Records records = c->get_records(phase.name, "jet_pt", AxisSelection::all());
    const auto k = count.values<std::int32_t>();
    for (std::int64_t i = 0; i < records.size(); ++i) {
      if (records[i].shape()[0] != k[static_cast<std::size_t>(i)]) {
        throw Error(
            ErrorCode::corrupt,
            fmt::format("event {} of phase {}: its jets and n_jets disagree", i, phase.name), file,
            "/higgs/" + phase.name);
      }
    }
    seen += phase.size;
    fmt::print("  {:<6} {:>8} events\n", phase.name, phase.size);
  }
  if (seen != n) {
    throw Error(ErrorCode::corrupt, fmt::format("{} of {} events in the phases", seen, n), file,
                "/higgs");
  }
  fmt::print(
      "{} events split 80/10/10 after a seeded shuffle into {} (jets ragged, blosc-lz4) in "
      "{:.0f} ms; reopened: metadata read back, no recompile, every event in one phase "
      "(checked)\n",
      n, file, build_s * 1e3);

  // One epoch over the training events that pass a cut: block-shuffled
  // batches of 256, the jets padded to 22 with NaN.
  auto train = st->root()->open_group("higgs/train");
  const std::string selection = "n_jets >= 2 & lead_pt > 20";
  const expr::CutResult passing = expr::cut(*train, selection);
  const auto ids = passing.rows.values<std::int64_t>();
  auto loader = loader::Loader::create(
      loader::phase_columns(*c, "train"),
      {.batch_size = 256,
       .sampler = {.shuffle = loader::Shuffle::block, .seed = 1, .block_size = 0},
       .subset = std::vector<std::int64_t>(ids.begin(), ids.end()),
       .pad = {{"jet_pt", {.width = 22, .fill = std::nan("")}}},
       .clip = true,
       .prefetch = 4,
       .threads = 2});
  start = std::chrono::steady_clock::now();
  std::vector<bool> seen_row(static_cast<std::size_t>(c->size("train")));
  std::int64_t rows = 0, batches = 0;
  auto epoch = loader->start();
  while (auto batch = epoch->next()) {
    const auto index = batch->index.values<std::int64_t>();
    const auto count = (*batch)["n_jets"].values<std::int32_t>();
    const auto pt = (*batch)["jet_pt"].values<float>();
    for (std::size_t r = 0; r < index.size(); ++r) {
      const auto row = static_cast<std::size_t>(index[r]);
      std::int32_t filled = 0;
      for (std::size_t k = 0; k < 22; ++k)
        filled += std::isnan(pt[r * 22 + k]) ? 0 : 1;
      if (seen_row[row] || count[r] < 2 || filled != std::min(count[r], 22)) {
        throw Error(ErrorCode::corrupt,
                    fmt::format("batch {}: training event {} is repeated, fails the cut or lost "
                                "jets in padding",
                                batch->number, row),
                    file, "/higgs/train");
      }
      seen_row[row] = true;
    }
    rows += batch->rows();
    ++batches;
  }
  const double epoch_s = seconds_since(start);
  if (rows != static_cast<std::int64_t>(ids.size())) {
    throw Error(ErrorCode::corrupt,
                fmt::format("an epoch gave {} rows of the {} passing the cut", rows, ids.size()),
                file, "/higgs/train");
  }
  fmt::print(
      "$ larder epoch {}:higgs/train --vars jet_pt,n_jets,lead_pt --batch 256 --shuffle "
      "block --pad jet_pt=22:nan --clip\n",
      file);
  fmt::print(
      "one epoch over the {} training events passing '{}': {} batches, jets padded to 22, "
      "{:.2f} M rows/s; every passing event exactly once (checked)\n\n",
      rows, selection, batches, static_cast<double>(rows) / epoch_s / 1e6);
}

// Event selection: per-event columns derived from the stage-4 jets (their
// count and scalar sum) and a missing-energy column, then a cut evaluated
// (and cached in the file), the cached re-run, and a cut flow — each checked
// against a plain loop over the same values.
void cut_stage(const DemoOptions& options) {
  fmt::print("== stage 5: cut expressions ==\n");
  const std::string file = (std::filesystem::path(options.workdir) / "events.h5").string();
  auto st = store::Store::open(file, "a");
  auto run = st->root()->open_group("run1");
  auto jets = ragged::Ragged::open(*run, "jet_pt");
  const ragged::Records all = jets->read(0, jets->size());
  const std::int64_t events = all.size();
  std::vector<std::int32_t> n_jets(static_cast<std::size_t>(events));
  std::vector<float> ht(static_cast<std::size_t>(events)), met(static_cast<std::size_t>(events));
  std::vector<std::uint8_t> hard(static_cast<std::size_t>(events));  // a jet above 100 GeV
  const auto pt = all.values.values<float>();
  std::uint64_t state = 0x853c49e6748fea9bull;
  for (std::int64_t i = 0; i < events; ++i) {
    const auto e = static_cast<std::size_t>(i);
    n_jets[e] = static_cast<std::int32_t>(all.offsets[e + 1] - all.offsets[e]);
    for (auto k = all.offsets[e]; k < all.offsets[e + 1]; ++k) {
      ht[e] += pt[static_cast<std::size_t>(k)];
      hard[e] = hard[e] || pt[static_cast<std::size_t>(k)] > 100.0f;
    }
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    met[e] = static_cast<float>(
        -40.0 * std::log(static_cast<double>(state >> 11) / 9007199254740992.0 + 1e-12));
  }
  for (const char* name : {"nJets", "ht", "met", ".larder"}) {
    if (run->contains(name)) run->remove(name);
  }
  run->create_dataset("nJets", {.dtype = DType::int32(), .shape = Shape{events}})
      ->write(Selection(), Array::from_values<std::int32_t>(n_jets));
  run->create_dataset("ht", {.dtype = DType::float32(), .shape = Shape{events}})
      ->write(Selection(), Array::from_values<float>(ht));
  run->create_dataset("met", {.dtype = DType::float32(), .shape = Shape{events}})
      ->write(Selection(), Array::from_values<float>(met));

  const std::string text = "nJets >= 6 & ht > min_ht";
  const expr::CutOptions cut_options{.constants = {{"min_ht", 300}}};
  auto start = std::chrono::steady_clock::now();
  const expr::CutResult first = expr::cut(*run, text, cut_options);
  const double first_s = seconds_since(start);
  start = std::chrono::steady_clock::now();
  const expr::CutResult again = expr::cut(*run, text, cut_options);
  const double again_s = seconds_since(start);
  std::vector<std::int64_t> want;
  for (std::int64_t i = 0; i < events; ++i) {
    if (n_jets[static_cast<std::size_t>(i)] >= 6 && ht[static_cast<std::size_t>(i)] > 300.0f) {
      want.push_back(i);
    }
  }
  const auto got = first.rows.values<std::int64_t>();
  if (!std::equal(got.begin(), got.end(), want.begin(), want.end()) || !again.from_cache ||
      xxh3_64(again.rows.bytes()) != xxh3_64(first.rows.bytes())) {
    throw Error(ErrorCode::corrupt,
                fmt::format("the cut '{}' does not select what a loop does", text), file,
                run->path());
  }
  fmt::print("$ larder cut {}:run1 '{}' --const min_ht=300\n", file, text);
  fmt::print(
      "{} of {} events ({:.2f}%) in {:.1f} ms ({:.0f} M events/s), cached in {}; again: "
      "{:.1f} ms, a cache hit (columns re-hashed, unchanged); both match a loop\n",
      want.size(), events, 100.0 * static_cast<double>(want.size()) / static_cast<double>(events),
      first_s * 1e3, static_cast<double>(events) / first_s / 1e6, ".larder/cuts/" + first.key,
      again_s * 1e3);

  const std::vector<std::string> cuts = {"nJets >= 4", "ht > 200", "any(jet_pt > 100)", "met < 80"};
  start = std::chrono::steady_clock::now();
  const expr::CutFlow flow = expr::cut_flow(*run, cuts);
  const double flow_s = seconds_since(start);
  std::vector<std::int64_t> passing(cuts.size(), 0);
  for (std::int64_t i = 0; i < events; ++i) {
    const auto e = static_cast<std::size_t>(i);
    const bool pass[] = {n_jets[e] >= 4, ht[e] > 200.0f, hard[e] != 0, met[e] < 80.0f};
    for (std::size_t c = 0; c < cuts.size() && pass[c]; ++c)
      ++passing[c];
  }
  fmt::print("cut flow over {} events in {:.1f} ms:\n", flow.total, flow_s * 1e3);
  for (std::size_t c = 0; c < cuts.size(); ++c) {
    if (flow.steps[c].passing != passing[c]) {
      throw Error(ErrorCode::corrupt,
                  fmt::format("cut flow step '{}' differs from a loop", cuts[c]), file,
                  run->path());
    }
    fmt::print("  {}. {:<20} {:>9} ({:.2f}%)\n", c + 1, cuts[c], flow.steps[c].passing,
               100.0 * static_cast<double>(flow.steps[c].passing) / static_cast<double>(events));
  }
  fmt::print("(checked against a loop)\n\n");
}

// A porous material: a (Z, Y, X) float32 volume of solid spheres (value
// about 1) in a noisy void (about 0), generated slice by slice.
Array porous_volume(std::int64_t depth, std::int64_t height, std::int64_t width) {
  struct Sphere {
    double z, y, x, r2;
  };
  Random random(2026);
  std::vector<Sphere> spheres(static_cast<std::size_t>(depth * height * width / 3000));
  for (Sphere& s : spheres) {
    const double r = 2 + 6 * random.uniform();
    s = {random.uniform() * depth, random.uniform() * height, random.uniform() * width, r * r};
  }
  Array v = Array::zeros(DType::float32(), Shape{depth, height, width});
  auto out = v.values<float>();
  parallel_for(depth, 1, [&](std::int64_t zb, std::int64_t ze) {
    Random noise(7, static_cast<std::uint64_t>(zb));
    for (std::int64_t z = zb; z < ze; ++z)
      for (std::int64_t y = 0; y < height; ++y)
        for (std::int64_t x = 0; x < width; ++x) {
          float value = static_cast<float>(0.2 * noise.uniform());
          for (const Sphere& s : spheres) {
            const double dz = z - s.z, dy = y - s.y, dx = x - s.x;
            if (dz * dz + dy * dy + dx * dx < s.r2) {
              value += 0.8f;
              break;
            }
          }
          out[static_cast<std::size_t>((z * height + y) * width + x)] = value;
        }
  });
  return v;
}

// A traced pipeline on the volume — binarize, cut into mostly solid
// patches, per-patch FFT magnitude, standardize the spectra — run twice:
// the second run finds every step finished and reuses its outputs.
void trace_stage(const DemoOptions& options) {
  fmt::print("== stage 7: a traced pipeline ==\n");
  const std::filesystem::path folder = std::filesystem::path(options.workdir) / "trace";
  std::filesystem::remove_all(folder);
  std::filesystem::create_directories(folder);
  const Array volume = porous_volume(64, 128, 128);

  auto data = trace::Data::create(folder);
  data->from_array("volume", volume);
  fmt::print("input: {} of {} in {}\n", volume.shape().to_string(), volume.dtype().numpy_str(),
             data->file().filename().string());

  struct Step {
    const char* operation;
    std::vector<std::string> inputs, outputs;
    nlohmann::json params;
  };
  const std::vector<Step> pipeline = {
      {"threshold", {"volume"}, {"solid"}, {{"value", 0.5}}},
      {"patches",
       {"solid"},
       {"patches", "corners"},
       {{"shape", {16, 16, 16}}, {"stride", {8, 8, 8}}, {"min_fill", 0.3}}},
      {"patch_fft", {"patches"}, {"spectra"}, nlohmann::json::object()},
      {"standardize", {"spectra"}, {"features"}, {{"per_feature", true}}},
  };
  std::filesystem::path trace_folder;
  double first_seconds = 0;
  for (int run = 1; run <= 2; ++run) {
    const auto start = std::chrono::steady_clock::now();
    std::unique_ptr<trace::Trace> t =
        run == 1 ? trace::Trace::create(folder, "", {.seed = 7}) : trace::Trace::link(trace_folder);
    trace_folder = t->folder();
    if (run == 1) t->set_link("volume", data->file(), "volume");
    int skipped = 0;
    for (const Step& step : pipeline) {
      const trace::ApplyResult result = t->apply(
          step.operation, {.inputs = step.inputs, .outputs = step.outputs, .params = step.params});
      skipped += result.skipped;
      fmt::print("  run {}: {:<11} {}\n", run, step.operation,
                 result.skipped ? "skipped: outputs up to date" : "ran");
    }
    const auto spectra = t->dataset("spectra");
    const double seconds = seconds_since(start);
    if (run == 1) {
      first_seconds = seconds;
      const std::int64_t patches = t->dataset("corners")->rows();
      if (patches == 0) throw Error(ErrorCode::io, "the demo volume gave no solid patch");
      // Check: a spectrum's zero frequency is the sum of its patch.
      const Selection first{AxisSelection::slice(0, 1, 1)};
      const Array patch = t->get("patches", first), spectrum = t->get("spectra", first);
      double sum = 0;
      for (const std::uint8_t v : patch.values<std::uint8_t>())
        sum += v;
      if (std::abs(spectrum.values<float>()[0] - sum) > 1e-3 * sum)
        throw Error(ErrorCode::io, fmt::format("spectrum 0 starts {} for a patch summing to {}",
                                               spectrum.values<float>()[0], sum));
      fmt::print("run 1: {} patches of 16^3 kept, spectra {} in {:.2f} s\n", patches,
                 spectra->shape().to_string(), seconds);
    } else {
      if (skipped != static_cast<int>(pipeline.size()))
        throw Error(ErrorCode::io,
                    fmt::format("the re-run ran {} steps again", pipeline.size() - skipped));
      fmt::print("run 2: every step skipped in {:.3f} s ({:.1f}% of run 1)\n", seconds,
                 100 * seconds / first_seconds);
    }
  }
  fmt::print("the trace: {} (larder trace show {})\n", trace_folder.string(),
             trace_folder.string());
}

// The sweep of dantro's integration example (seed x max_step_size, per run
// data.h5 with a random walk and an agent model's energy time series,
// params.yml and sim.log) written with larder's HDF5 store, loaded from the
// example's load config, printed condensed, and the random walks selected,
// averaged over seeds and written; checked against the generated walks.
constexpr int sweep_seeds = 10;
const std::vector<double> sweep_step_sizes{0.1, 0.3, 1.0};
constexpr std::int64_t sweep_walk_steps = 1023;

std::vector<double> demo_walk(int seed, double max_step_size) {
  std::vector<double> walk(sweep_walk_steps + 1, 0.0);
  std::uint64_t state =
      0x9e3779b97f4a7c15ull ^ (static_cast<std::uint64_t>(seed) * 0x100000001b3ull);
  for (std::size_t i = 1; i < walk.size(); ++i) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    const double u = static_cast<double>(state >> 11) / static_cast<double>(1ull << 53);
    walk[i] = walk[i - 1] + (2 * u - 1) * max_step_size;
  }
  return walk;
}

void write_demo_sweep(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  fs::remove_all(dir);
  fs::create_directories(dir);
  tree::Value steps = tree::Value::array();
  for (double step : sweep_step_sizes)
    steps.push_back(step);
  const tree::Value pspace = tree::make_tagged(
      "!pspace",
      {{"random_walk",
        {{"initial_state", 0.0},
         {"max_step_size", tree::make_tagged("!pdim", {{"default", 1.0}, {"values", steps}})},
         {"num_steps", sweep_walk_steps}}},
       {"seed", tree::make_tagged(
                    "!pdim", {{"default", 42}, {"range", tree::Value::array({sweep_seeds})}})}});
  std::ofstream(dir / "pspace.yml") << tree::to_yaml(pspace);
  // One run per point, named and parametrised as paramspace does it.
  const auto space = tree::ParamSpace::from_value(pspace, "demo sweep");
  for (const auto& point : space.points()) {
    const tree::Value params = space.params_of(point);
    const int seed = params["seed"].get<int>();
    const double max_step_size = params["random_walk"]["max_step_size"].get<double>();
    const fs::path run = dir / ("sim_" + point.state_name);
    fs::create_directories(run);
    auto store = store::Store::open(run / "data.h5", "w");
    auto root = store->root();
    const auto walk = demo_walk(seed, max_step_size);
    root->create_dataset("random_walk",
                         {.dtype = DType::float64(), .shape = Shape{sweep_walk_steps + 1}})
        ->write(Selection(), Array::from_values<double>(walk));
    auto energy = root->require_group("abm/energy");
    energy->attrs().set("content", "time_series");
    for (int t = 0; t < 12; ++t) {
      const std::vector<double> agents(static_cast<std::size_t>(12 - t), 1.0 - 0.05 * t);
      energy->create_dataset(std::to_string(t), {.dtype = DType::float64(), .shape = Shape{12 - t}})
          ->write(Selection(), Array::from_values<double>(agents));
    }
    store->close();
    std::ofstream(run / "params.yml") << tree::to_yaml(params);
    std::ofstream(run / "sim.log") << fmt::format("Setting PRNG seed to {} ...\n", seed);
  }
}

void tree_stage(const DemoOptions& options) {
  fmt::print("== stage 8: data tree ==\n");
  const std::filesystem::path dir = std::filesystem::path(options.workdir) / "sweep";
  auto start = std::chrono::steady_clock::now();
  write_demo_sweep(dir);
  fmt::print("wrote a sweep of {} runs (seed x max_step_size) in {:.1f} ms: {}\n",
             sweep_seeds * sweep_step_sizes.size(), seconds_since(start) * 1e3, dir.string());
  const tree::Value load_cfg = tree::parse_yaml(R"(
pspace:
  loader: yaml_to_object
  glob_str: pspace.yml
  required: true
  load_as_attr: true
  unpack_data: true
  target_path: simulations
sim_params:
  loader: yaml
  glob_str: sim_*/params.yml
  required: true
  path_regex: sim_(\d+)/params.yml
  target_path: simulations/{match:}/params
sim_data:
  loader: hdf5
  glob_str: sim_*/data.h5
  required: true
  path_regex: sim_(\d+)/data.h5
  target_path: simulations/{match:}/data
  enable_mapping: true
  map_from_attr: content
  parallel: true
sim_log:
  loader: text
  glob_str: sim_*/sim.log
  path_regex: sim_(\d+)/sim.log
  target_path: simulations/{match:}/log
)",
                                                "demo load config");
  start = std::chrono::steady_clock::now();
  tree::DataManager dm(dir, {.name = "my_simulation",
                             .load_cfg = load_cfg,
                             .out_dir = std::nullopt,
                             .create_groups = {{"simulations", tree::GroupClass::param_space}}});
  TerminalProgress progress;
  dm.load_from_cfg({}, {}, tree::ExistsAction::raise, progress);
  fmt::print("loaded in {:.1f} ms:\n{}", seconds_since(start) * 1e3, dm.tree_condensed());

  start = std::chrono::steady_clock::now();
  auto& simulations = dm.root().group("simulations");
  const auto walks = tree::select(simulations, "data/random_walk");
  const double select_s = seconds_since(start);
  // Mean over the seed dimension: (max_step_size, seed, dim_0) -> (max_step_size, dim_0).
  const auto& shape = walks.values.shape();
  const std::int64_t seed_axis =
      std::find(walks.dims.begin(), walks.dims.end(), "seed") - walks.dims.begin();
  if (walks.values.rank() != 3 || seed_axis != 1 || shape[1] != sweep_seeds) {
    throw Error(ErrorCode::corrupt, fmt::format("selected walks have shape {} and dims {}",
                                                shape.to_string(), fmt::join(walks.dims, ", ")));
  }
  Array mean = Array::zeros(DType::float64(), Shape{shape[0], shape[2]});
  const auto in = walks.values.values<double>();
  auto out = mean.values<double>();
  for (std::int64_t j = 0; j < shape[0]; ++j)
    for (std::int64_t s = 0; s < shape[1]; ++s)
      for (std::int64_t t = 0; t < shape[2]; ++t)
        out[static_cast<std::size_t>(j * shape[2] + t)] +=
            in[static_cast<std::size_t>((j * shape[1] + s) * shape[2] + t)] /
            static_cast<double>(shape[1]);
  for (std::size_t j = 0; j < sweep_step_sizes.size(); ++j) {
    std::vector<double> expected(sweep_walk_steps + 1, 0.0);
    for (int seed = 0; seed < sweep_seeds; ++seed) {
      const auto walk = demo_walk(seed, sweep_step_sizes[j]);
      for (std::size_t t = 0; t < walk.size(); ++t)
        expected[t] += walk[t] / sweep_seeds;
    }
    for (std::size_t t = 0; t < expected.size(); ++t) {
      if (std::abs(expected[t] - out[j * expected.size() + t]) > 1e-9) {
        throw Error(ErrorCode::corrupt,
                    fmt::format("mean walk of max_step_size {} differs at step {}",
                                sweep_step_sizes[j], t));
      }
    }
  }
  const auto result = std::filesystem::path(options.workdir) / "sweep_result.h5";
  {
    auto store = store::Store::open(result, "w");
    tree::write_combined(*store->root(), "random_walk", walks);
    auto ds = store->root()->create_dataset("mean_random_walk",
                                            {.dtype = DType::float64(), .shape = mean.shape()});
    ds->write(Selection(), mean);
    ds->attrs().set("dims", nlohmann::json::array({"max_step_size", "dim_0"}));
    store->close();
  }
  fmt::print(
      "selected data/random_walk of {} runs as ({}) {} in {:.1f} ms; mean over seeds "
      "written to {} (checked against the generated walks)\n\n",
      shape[0] * shape[1], fmt::join(walks.dims, ", "), shape.to_string(), select_s * 1e3,
      result.string());
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
  cmd->add_option("--workdir", options->workdir, "Where the demo writes its files")
      ->capture_default_str();
  cmd->callback([options] {
    std::unique_ptr<ConcurrencyLimit> limit;
    if (options->threads > 0) limit = std::make_unique<ConcurrencyLimit>(options->threads);
    codec_stage(*options);
    storage_stage(*options);
    mmap_stage(*options);
    ragged_stage(*options);
    cut_stage(*options);
    collection_stage(*options);
    trace_stage(*options);
    tree_stage(*options);
    fmt::print("demo finished: every stage ran and checked its results\n");
  });
}

}  // namespace larder::cli
