// larder's HDF5 filters as libhdf5 runs them. Files are made through the
// plain HDF5 C API (H5Pset_filter, then H5Dwrite: libhdf5 calls larder's
// callbacks), read back through H5Dread and, chunk by chunk, through
// H5Dread_chunk and the codec layer. With LARDER_FILTER_FILES set to a
// directory, Hdf5FiltersInterop leaves such a file there for
// tests/python/test_hdf5_filters.py to open in h5py.
#include <gtest/gtest.h>
#include <hdf5.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <ostream>
#include <random>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "../../src/store/hdf5/filters.h"
#include "../../src/store/hdf5/handle.h"
#include "larder/codec/codec.h"
#include "larder/codec/registry.h"
#include "larder/core/error.h"
#include "store/temp_dir.h"

namespace larder::store::hdf5 {
namespace {

using codec::CodecRegistry;
using testing::TempDir;

// Every dataset here: 300 x 70 elements in chunks of 64 x 16, so the last
// row and column of chunks reach past the data.
constexpr std::array<hsize_t, 2> kDims{300, 70};
constexpr std::array<hsize_t, 2> kChunk{64, 16};
constexpr std::size_t kElements = kDims[0] * kDims[1];
constexpr std::size_t kChunkElements = kChunk[0] * kChunk[1];

// Element types, with values that compress (and that Python can recompute:
// tests/python/test_hdf5_filters.py uses the same formulas).
enum class Kind { f32, f64, i16, i32 };

hid_t native(Kind kind) {
  switch (kind) {
    case Kind::f32:
      return H5T_NATIVE_FLOAT;
    case Kind::f64:
      return H5T_NATIVE_DOUBLE;
    case Kind::i16:
      return H5T_NATIVE_INT16;
    case Kind::i32:
      return H5T_NATIVE_INT32;
  }
  return H5T_NATIVE_UCHAR;
}

std::size_t item_size(Kind kind) {
  return kind == Kind::f64 ? 8 : kind == Kind::i16 ? 2 : 4;
}

template <class T>
void put(std::vector<std::byte>& out, std::size_t k, T value) {
  std::memcpy(out.data() + k * sizeof(T), &value, sizeof(T));
}

std::vector<std::byte> values(Kind kind) {
  std::vector<std::byte> out(kElements * item_size(kind));
  for (std::size_t k = 0; k < kElements; ++k) {
    switch (kind) {
      case Kind::f32:
        put(out, k, static_cast<float>(k % 1000) * 0.25f);
        break;
      case Kind::f64:
        put(out, k, static_cast<double>(k) * 0.5);
        break;
      case Kind::i16:
        put(out, k, static_cast<std::int16_t>((k / 3) % 3000));
        break;
      case Kind::i32:
        put(out, k, static_cast<std::int32_t>(k / 5));
        break;
    }
  }
  return out;
}

std::vector<std::byte> noise(Kind kind) {
  std::mt19937_64 rng(3);
  std::vector<std::byte> out(kElements * item_size(kind));
  for (auto& b : out)
    b = static_cast<std::byte>(rng() >> 56);
  return out;
}

// The elements of chunk (row, col) inside the data; positions past the
// data's edge are not compared (`known` is false there).
std::vector<std::byte> chunk_of(const std::vector<std::byte>& data, std::size_t item, hsize_t row,
                                hsize_t col, std::vector<bool>& known) {
  std::vector<std::byte> chunk(kChunkElements * item);
  known.assign(kChunkElements, false);
  for (hsize_t r = 0; r < kChunk[0]; ++r) {
    for (hsize_t c = 0; c < kChunk[1]; ++c) {
      const hsize_t gr = row * kChunk[0] + r;
      const hsize_t gc = col * kChunk[1] + c;
      if (gr >= kDims[0] || gc >= kDims[1]) continue;
      const std::size_t at = r * kChunk[1] + c;
      std::memcpy(chunk.data() + at * item, data.data() + (gr * kDims[1] + gc) * item, item);
      known[at] = true;
    }
  }
  return chunk;
}

std::vector<std::string> error_messages() {
  std::vector<std::string> messages;
  H5Ewalk2(
      H5E_DEFAULT, H5E_WALK_UPWARD,
      [](unsigned, const H5E_error2_t* e, void* data) -> herr_t {
        if (e->desc != nullptr) static_cast<std::vector<std::string>*>(data)->emplace_back(e->desc);
        return 0;
      },
      &messages);
  H5Eclear2(H5E_DEFAULT);
  return messages;
}

bool any_mentions(const std::vector<std::string>& messages, const std::string& word) {
  return std::any_of(messages.begin(), messages.end(),
                     [&](const std::string& m) { return m.find(word) != std::string::npos; });
}

struct Settings {
  unsigned flags = 0;
  std::vector<unsigned> cd_values;
  std::string name;
};

Settings filter_settings(hid_t dcpl, H5Z_filter_t id) {
  Settings s;
  std::array<unsigned, 32> cd{};
  std::size_t n = cd.size();
  std::array<char, 256> name{};
  check(H5Pget_filter_by_id2(dcpl, id, &s.flags, &n, cd.data(), name.size(), name.data(), nullptr),
        "H5Pget_filter_by_id2");
  s.cd_values.assign(cd.begin(), cd.begin() + static_cast<std::ptrdiff_t>(n));
  s.name = name.data();
  return s;
}

// Creates `name` in `file`, filtered by `id` with `cd_values`, and writes
// `data` through H5Dwrite (write = false: leaves it unwritten).
Handle create_dataset(hid_t file, const std::string& name, Kind kind, H5Z_filter_t id,
                      const std::vector<unsigned>& cd_values, unsigned flags) {
  const Handle space = space_handle(check_id(H5Screate_simple(2, kDims.data(), nullptr), "space"));
  const Handle dcpl = plist_handle(check_id(H5Pcreate(H5P_DATASET_CREATE), "dcpl"));
  check(H5Pset_chunk(dcpl.get(), 2, kChunk.data()), "H5Pset_chunk");
  check(H5Pset_filter(dcpl.get(), id, flags, cd_values.size(), cd_values.data()), "H5Pset_filter");
  return dataset_handle(check_id(H5Dcreate2(file, name.c_str(), native(kind), space.get(),
                                            H5P_DEFAULT, dcpl.get(), H5P_DEFAULT),
                                 "H5Dcreate2 " + name));
}

void write_all(hid_t dataset, Kind kind, const std::vector<std::byte>& data) {
  check(H5Dwrite(dataset, native(kind), H5S_ALL, H5S_ALL, H5P_DEFAULT, data.data()), "H5Dwrite");
}

std::vector<std::byte> read_all(hid_t dataset, Kind kind) {
  std::vector<std::byte> out(kElements * item_size(kind));
  check(H5Dread(dataset, native(kind), H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()), "H5Dread");
  return out;
}

struct Stored {
  unsigned mask = 0;
  std::vector<std::byte> bytes;
};

Stored read_chunk(hid_t dataset, hsize_t row, hsize_t col) {
  const std::array<hsize_t, 2> offset{row * kChunk[0], col * kChunk[1]};
  hsize_t size = 0;
  check(H5Dget_chunk_storage_size(dataset, offset.data(), &size), "H5Dget_chunk_storage_size");
  Stored s;
  s.bytes.resize(size);
  check(H5Dread_chunk(dataset, H5P_DEFAULT, offset.data(), &s.mask, s.bytes.data()),
        "H5Dread_chunk");
  return s;
}

constexpr hsize_t kChunkRows = (kDims[0] + kChunk[0] - 1) / kChunk[0];
constexpr hsize_t kChunkCols = (kDims[1] + kChunk[1] - 1) / kChunk[1];

class Hdf5Filters : public ::testing::Test {
 protected:
  void SetUp() override {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);  // failures are checked, not printed
    register_filters();
  }
  TempDir dir;
};

// ---- every filter through libhdf5 ------------------------------------------

struct Case {
  std::string name;
  H5Z_filter_t id;
  std::vector<unsigned> cd_values;  // as given to H5Pset_filter
  Kind kind;
  std::vector<unsigned> stored;  // as set_local leaves them in the file
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << c.name;
}

const std::vector<Case>& cases() {
  static const std::vector<Case> all = {
      // hdf5plugin's Blosc(): {0, 0, 0, 0, level, shuffle, compcode}.
      {"blosc_lz4", 32001, {0, 0, 0, 0, 5, 1, 1}, Kind::f32, {2, 2, 4, 4096, 5, 1, 1}},
      {"blosc_zstd_bit", 32001, {2, 2, 0, 0, 3, 2, 5}, Kind::i16, {2, 2, 2, 2048, 3, 2, 5}},
      // No cd_values: hdf5-blosc's defaults (blosclz, level 5, byte shuffle).
      {"blosc_default", 32001, {}, Kind::f64, {2, 2, 8, 8192, 5, 1, 0}},
      {"zstd", 32015, {5}, Kind::f64, {5}},
      {"zstd_default", 32015, {}, Kind::i32, {}},
      {"lz4", 32004, {}, Kind::i32, {}},
      {"lz4_small_blocks", 32004, {1000}, Kind::i32, {1000}},
      // The plugin's user form {block, compression[, level]}.
      {"bitshuffle_lz4", 32008, {0, 2}, Kind::i32, {0, 4, 4, 2048, 2}},
      {"bitshuffle_zstd", 32008, {64, 3, 4}, Kind::i16, {0, 4, 2, 64, 3, 4}},
      {"bitshuffle_plain", 32008, {}, Kind::f32, {0, 4, 4, 2048, 0}},
      // The stored form Codec::hdf5_filter gives keeps its element size.
      {"bitshuffle_stored_form", 32008, {0, 4, 2, 128, 2}, Kind::i32, {0, 4, 2, 128, 2}},
      {"lzf", 32000, {}, Kind::f32, {4, 0x105, 4096}},
      {"lzf_h5py_values", 32000, {4, 0x105, 0}, Kind::i16, {4, 0x105, 2048}},
  };
  return all;
}

class EveryFilter : public Hdf5Filters, public ::testing::WithParamInterface<Case> {};

TEST_P(EveryFilter, WritesThroughLibhdf5AndReadsBackEveryWay) {
  const Case& c = GetParam();
  ASSERT_GT(H5Zfilter_avail(c.id), 0);
  const auto path = (dir / "filters.h5").string();
  const auto data = values(c.kind);
  {
    const Handle file = file_handle(
        check_id(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), "H5Fcreate"));
    const Handle dataset =
        create_dataset(file.get(), "data", c.kind, c.id, c.cd_values, H5Z_FLAG_OPTIONAL);
    write_all(dataset.get(), c.kind, data);
  }
  const Handle file =
      file_handle(check_id(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), "H5Fopen"));
  const Handle dataset =
      dataset_handle(check_id(H5Dopen2(file.get(), "data", H5P_DEFAULT), "open"));
  EXPECT_EQ(read_all(dataset.get(), c.kind), data);

  const Handle dcpl = plist_handle(check_id(H5Dget_create_plist(dataset.get()), "dcpl"));
  const Settings settings = filter_settings(dcpl.get(), c.id);
  EXPECT_EQ(settings.cd_values, c.stored);
  EXPECT_NE(settings.name.find("(larder)"), std::string::npos) << settings.name;

  // Each stored chunk is the codec's bytes: decode it without libhdf5.
  const auto codec = codec::make_codec(
      CodecRegistry::builtin().spec_from_hdf5(static_cast<unsigned>(c.id), settings.cd_values));
  const std::size_t item = item_size(c.kind);
  int filtered = 0;
  for (hsize_t row = 0; row < kChunkRows; ++row) {
    for (hsize_t col = 0; col < kChunkCols; ++col) {
      SCOPED_TRACE(::testing::Message() << "chunk " << row << ", " << col);
      const Stored stored = read_chunk(dataset.get(), row, col);
      std::vector<bool> known;
      const auto expected = chunk_of(data, item, row, col, known);
      std::vector<std::byte> chunk(kChunkElements * item);
      if (stored.mask == 0) {
        codec->decode(stored.bytes, chunk);
        ++filtered;
      } else {
        ASSERT_EQ(stored.bytes.size(), chunk.size());
        chunk = stored.bytes;
      }
      for (std::size_t i = 0; i < kChunkElements; ++i) {
        if (!known[i]) continue;
        ASSERT_EQ(std::memcmp(chunk.data() + i * item, expected.data() + i * item, item), 0)
            << "element " << i;
      }
    }
  }
  EXPECT_EQ(filtered, static_cast<int>(kChunkRows * kChunkCols));  // all of them compress
}

INSTANTIATE_TEST_SUITE_P(Hdf5Filters, EveryFilter, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case>& p) { return p.param.name; });

// ---- registration -----------------------------------------------------------

TEST_F(Hdf5Filters, RegisteringAgainAndFromManyThreadsIsHarmless) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([] { register_filters(); });
  for (auto& t : threads)
    t.join();
  for (H5Z_filter_t id : {32000, 32001, 32004, 32008, 32015}) {
    SCOPED_TRACE(id);
    unsigned config = 0;
    ASSERT_GE(H5Zget_filter_info(id, &config), 0);
    EXPECT_NE(config & H5Z_FILTER_CONFIG_ENCODE_ENABLED, 0u);
    EXPECT_NE(config & H5Z_FILTER_CONFIG_DECODE_ENABLED, 0u);
  }
}

size_t failing_filter(unsigned, size_t, const unsigned[], size_t, size_t*, void**) {
  return 0;
}

// Registers a stand-in for a plugin under 32004, then larder's filters from
// eight threads at once; exits 0 when a new pipeline gets larder's lz4.
[[noreturn]] void register_over_a_plugin_and_exit() {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  const H5Z_class2_t plugin{.version = H5Z_CLASS_T_VERS,
                            .id = 32004,
                            .encoder_present = 1,
                            .decoder_present = 1,
                            .name = "stand-in plugin",
                            .can_apply = nullptr,
                            .set_local = nullptr,
                            .filter = failing_filter};
  if (H5Zregister(&plugin) < 0) std::exit(2);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([] { register_filters(); });
  for (auto& t : threads)
    t.join();
  const hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  H5Pset_filter(dcpl, 32004, H5Z_FLAG_OPTIONAL, 0, nullptr);
  const std::string name = filter_settings(dcpl, 32004).name;
  H5Pclose(dcpl);
  std::exit(name == "lz4 (larder)" ? 0 : 1);
}

TEST(Hdf5FiltersRegistration, ReplacesAFilterRegisteredBeforeEvenFromManyThreads) {
  // The death-test child is a fresh process, where register_filters has not
  // run yet (the "threadsafe" style re-executes the test program).
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(register_over_a_plugin_and_exit(), ::testing::ExitedWithCode(0), "");
}

// ---- chunks larder encodes itself, chunks that do not compress -------------

TEST_F(Hdf5Filters, Libhdf5ReadsChunksTheCodecsWroteDirectly) {
  const auto codec = codec::make_codec({.id = "bitshuffle", .typesize = 4, .format = "zstd"});
  const auto filter = codec->hdf5_filter(kChunkElements * 4);
  const auto path = (dir / "direct.h5").string();
  const auto data = values(Kind::f32);
  const Handle file = file_handle(
      check_id(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), "H5Fcreate"));
  const Handle dataset = create_dataset(file.get(), "direct", Kind::f32, filter.id,
                                        filter.cd_values, H5Z_FLAG_OPTIONAL);
  for (hsize_t row = 0; row < kChunkRows; ++row) {
    for (hsize_t col = 0; col < kChunkCols; ++col) {
      std::vector<bool> known;
      const auto chunk = chunk_of(data, 4, row, col, known);
      const auto encoded = codec->encode(chunk);
      const std::array<hsize_t, 2> offset{row * kChunk[0], col * kChunk[1]};
      check(H5Dwrite_chunk(dataset.get(), H5P_DEFAULT, 0, offset.data(), encoded.size(),
                           encoded.data()),
            "H5Dwrite_chunk");
    }
  }
  EXPECT_EQ(read_all(dataset.get(), Kind::f32), data);
}

TEST_F(Hdf5Filters, OptionalFiltersStoreChunksThatWouldGrowAsTheyAre) {
  const auto path = (dir / "noise.h5").string();
  const auto data = noise(Kind::i32);
  const Handle file = file_handle(
      check_id(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), "H5Fcreate"));
  for (H5Z_filter_t id : {32000, 32001, 32004, 32015}) {
    SCOPED_TRACE(id);
    const std::string name = std::to_string(id);
    const Handle optional =
        create_dataset(file.get(), name + "_optional", Kind::i32, id, {}, H5Z_FLAG_OPTIONAL);
    write_all(optional.get(), Kind::i32, data);
    EXPECT_EQ(read_all(optional.get(), Kind::i32), data);
    const Stored raw = read_chunk(optional.get(), 0, 0);
    EXPECT_EQ(raw.mask, 1u);  // filter 0 skipped
    EXPECT_EQ(raw.bytes.size(), kChunkElements * 4);
    // A mandatory filter must apply, however large its output.
    const Handle mandatory =
        create_dataset(file.get(), name + "_mandatory", Kind::i32, id, {}, H5Z_FLAG_MANDATORY);
    write_all(mandatory.get(), Kind::i32, data);
    EXPECT_EQ(read_all(mandatory.get(), Kind::i32), data);
    EXPECT_EQ(read_chunk(mandatory.get(), 0, 0).mask, 0u);
  }
}

// ---- failures stay inside libhdf5's error stack ----------------------------

TEST_F(Hdf5Filters, CorruptChunksFailTheReadWithTheCodecsMessage) {
  const auto path = (dir / "corrupt.h5").string();
  const Handle file = file_handle(
      check_id(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), "H5Fcreate"));
  const std::vector<std::pair<H5Z_filter_t, std::string>> filters = {
      {32000, "lzf"}, {32001, "blosc"}, {32004, "lz4"}, {32008, "bitshuffle"}, {32015, "zstd"}};
  std::mt19937_64 rng(9);
  for (const auto& [id, word] : filters) {
    SCOPED_TRACE(word);
    const Handle dataset = create_dataset(
        file.get(), word, Kind::f32, id,
        id == 32008 ? std::vector<unsigned>{0, 2} : std::vector<unsigned>{}, H5Z_FLAG_OPTIONAL);
    // Garbage, a truncated real chunk, and a frame that claims 16 GiB.
    std::vector<std::vector<std::byte>> bad;
    bad.emplace_back(300);
    for (auto& b : bad.back())
      b = static_cast<std::byte>(rng());
    std::vector<bool> known;
    const Handle dcpl = plist_handle(check_id(H5Dget_create_plist(dataset.get()), "dcpl"));
    const auto codec = codec::make_codec(CodecRegistry::builtin().spec_from_hdf5(
        static_cast<unsigned>(id), filter_settings(dcpl.get(), id).cd_values));
    const auto chunk = chunk_of(values(Kind::f32), 4, 0, 0, known);
    auto encoded = codec->encode(chunk);
    bad.emplace_back(encoded.begin(),
                     encoded.begin() + static_cast<std::ptrdiff_t>(encoded.size() / 2));
    if (id == 32004 || id == 32008) {
      auto huge = encoded;
      huge[3] = std::byte{4};  // BE64 decoded size + 16 GiB
      bad.push_back(huge);
    }
    for (const auto& stored : bad) {
      const std::array<hsize_t, 2> offset{0, 0};
      check(H5Dwrite_chunk(dataset.get(), H5P_DEFAULT, 0, offset.data(), stored.size(),
                           stored.data()),
            "H5Dwrite_chunk");
      std::vector<float> out(kElements);
      EXPECT_LT(H5Dread(dataset.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()),
                0);
      const auto messages = error_messages();
      EXPECT_TRUE(any_mentions(messages, word)) << ::testing::PrintToString(messages);
    }
  }
}

TEST_F(Hdf5Filters, SetLocalRefusesSettingsLarderCannotRun) {
  const auto path = (dir / "refused.h5").string();
  const Handle file = file_handle(
      check_id(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), "H5Fcreate"));
  const std::vector<std::tuple<H5Z_filter_t, std::vector<unsigned>, std::string>> refused = {
      {32001, {0, 0, 0, 0, 5, 1, 3}, "snappy"},
      {32001, {0, 0, 0, 0, 12, 1, 1}, "level 12"},
      {32008, {12, 2}, "block_size 12"},
      {32008, {0, 7}, "compression 7"},
  };
  for (const auto& [id, cd, word] : refused) {
    SCOPED_TRACE(word);
    EXPECT_THROW(create_dataset(file.get(), word, Kind::f32, id, cd, H5Z_FLAG_OPTIONAL), Error);
  }
  // check() turned the stack into the message: run one by hand to see it.
  const Handle space = space_handle(H5Screate_simple(2, kDims.data(), nullptr));
  const Handle dcpl = plist_handle(H5Pcreate(H5P_DATASET_CREATE));
  H5Pset_chunk(dcpl.get(), 2, kChunk.data());
  const std::vector<unsigned> snappy{0, 0, 0, 0, 5, 1, 3};
  H5Pset_filter(dcpl.get(), 32001, H5Z_FLAG_OPTIONAL, snappy.size(), snappy.data());
  EXPECT_LT(H5Dcreate2(file.get(), "snappy by hand", H5T_NATIVE_FLOAT, space.get(), H5P_DEFAULT,
                       dcpl.get(), H5P_DEFAULT),
            0);
  const auto messages = error_messages();
  EXPECT_TRUE(any_mentions(messages, "snappy")) << ::testing::PrintToString(messages);
}

// ---- files for h5py -------------------------------------------------------------

TEST(Hdf5FiltersInterop, WritesAFileForH5py) {
  const char* out = std::getenv("LARDER_FILTER_FILES");
  if (out == nullptr) GTEST_SKIP() << "LARDER_FILTER_FILES is not set (the Python test sets it)";
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  register_filters();
  std::filesystem::create_directories(out);
  const auto path = (std::filesystem::path(out) / "larder_filters.h5").string();
  const Handle file = file_handle(
      check_id(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), "H5Fcreate"));
  for (const Case& c : cases()) {
    const Handle dataset =
        create_dataset(file.get(), c.name, c.kind, c.id, c.cd_values, H5Z_FLAG_OPTIONAL);
    write_all(dataset.get(), c.kind, values(c.kind));
  }
}

}  // namespace
}  // namespace larder::store::hdf5
