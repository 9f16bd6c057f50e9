// Datasets on the HDF5 driver: every layout and codec, every selection kind,
// checked against Array's in-memory take()/put() as the reference.
#include "larder/store/dataset.h"

#include <gtest/gtest.h>
#include <hdf5.h>

#include <algorithm>
#include <complex>
#include <fstream>
#include <numeric>
#include <random>

#include "larder/core/error.h"
#include "larder/store/store.h"
#include "store/random_selection.h"
#include "store/temp_dir.h"

namespace larder::store {
namespace {

using testing::has_repeats;
using testing::random_selection;
using testing::TempDir;

Array iota(DType dtype, Shape shape) {
  Array a = Array::empty(dtype, shape);
  if (dtype == DType::float32()) {
    auto v = a.values<float>();
    for (std::size_t i = 0; i < v.size(); ++i)
      v[i] = static_cast<float>(i) * 0.5f;
  } else {
    auto v = a.values<std::int64_t>();
    std::iota(v.begin(), v.end(), 0);
  }
  return a;
}

bool same(const Array& a, const Array& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() &&
         std::equal(a.bytes().begin(), a.bytes().end(), b.bytes().begin());
}

struct Layout {
  std::string name;
  DatasetOptions options;
};

std::vector<Layout> layouts(const Shape& shape) {
  // Chunks that do not divide the shape, so edge chunks are exercised; HDF5
  // refuses chunks larger than a fixed axis, so they are clamped to it.
  auto fit = [&](std::vector<std::int64_t> c) {
    for (std::size_t a = 0; a < c.size(); ++a)
      c[a] = std::min(c[a], shape[a]);
    return c;
  };
  std::vector<Layout> out;
  out.push_back({"contiguous", {.dtype = DType::float32(), .shape = shape}});
  out.push_back({"chunked", {.dtype = DType::float32(), .shape = shape, .chunks = fit({7, 4, 3})}});
  for (const char* id : {"blosc-lz4", "blosc-zstd", "zstd", "lz4", "gzip", "lzf", "bitshuffle"}) {
    out.push_back({id,
                   {.dtype = DType::float32(),
                    .shape = shape,
                    .chunks = fit({5, 3, 4}),
                    .codec = {.id = id}}});
  }
  out.push_back({"extendable",
                 {.dtype = DType::float32(),
                  .shape = shape,
                  .chunks = fit({8, 9, 2}),
                  .codec = {.id = "blosc-lz4"},
                  .extendable = true}});
  return out;
}

TEST(Dataset, ReadsMatchTheInMemoryReferenceForEveryLayoutAndSelection) {
  TempDir dir;
  const Shape shape{23, 17, 11};
  const Array data = iota(DType::float32(), shape);
  auto store = Store::open(dir / "d.h5", "w");
  std::mt19937_64 rng(42);
  for (const auto& layout : layouts(shape)) {
    auto ds = store->root()->create_dataset(layout.name, layout.options);
    ds->write(Selection(), data);
    for (int trial = 0; trial < 150; ++trial) {
      const Selection sel = random_selection(rng, shape);
      ASSERT_TRUE(same(ds->read(sel), take(data, sel))) << layout.name << " " << sel.to_string();
    }
  }
}

TEST(Dataset, WritesMatchTheInMemoryReference) {
  TempDir dir;
  const Shape shape{19, 6, 5};
  auto store = Store::open(dir / "w.h5", "w");
  std::mt19937_64 rng(7);
  for (const auto& layout : layouts(shape)) {
    auto ds = store->root()->create_dataset(layout.name, layout.options);
    Array reference = Array::zeros(DType::float32(), shape);
    ds->write(Selection(), reference);
    for (int trial = 0; trial < 40; ++trial) {
      const Selection sel = random_selection(rng, shape);
      if (has_repeats(sel, shape)) continue;
      Array values = iota(DType::float32(), sel.result_shape(shape));
      put(reference.mutable_view(), sel, values);
      ds->write(sel, values);
    }
    ASSERT_TRUE(same(ds->read(), reference)) << layout.name;
  }
}

TEST(Dataset, GatherReturnsRowsInTheGivenOrderWithRepeats) {
  TempDir dir;
  auto store = Store::open(dir / "g.h5", "w");
  const Array data = iota(DType::int64(), Shape{10000, 4});
  auto ds = store->root()->create_dataset("x", {.dtype = DType::int64(),
                                                .shape = data.shape(),
                                                .chunks = {256, 4},
                                                .codec = {.id = "blosc-lz4"}});
  ds->write(Selection(), data);
  std::vector<std::int64_t> rows{9999, 0, 5000, 0, 17, 9999, 4096};
  const Array got = ds->gather(rows);
  ASSERT_EQ(got.shape(), (Shape{7, 4}));
  for (std::size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(got.values<std::int64_t>()[i * 4], rows[i] * 4);
  }
  EXPECT_THROW(ds->gather(std::vector<std::int64_t>{10000}), Error);
}

TEST(Dataset, AppendsInAnyBatchSizeSurviveReopening) {
  TempDir dir;
  const auto file = dir / "a.h5";
  std::vector<std::int64_t> batches{1, 3, 64, 100, 7, 129, 0, 500, 2};
  std::int64_t total = 0;
  {
    auto store = Store::open(file, "w");
    auto ds = store->root()->create_dataset("events", {.dtype = DType::int64(),
                                                       .shape = Shape{0, 3},
                                                       .chunks = {64, 3},
                                                       .codec = {.id = "zstd"},
                                                       .extendable = true});
    for (std::int64_t n : batches) {
      Array rows = Array::empty(DType::int64(), Shape{n, 3});
      auto v = rows.values<std::int64_t>();
      for (std::int64_t i = 0; i < n * 3; ++i)
        v[static_cast<std::size_t>(i)] = total * 3 + i;
      ds->append(rows);
      total += n;
      ASSERT_EQ(ds->shape(), (Shape{total, 3}));
      // Reading back while appending sees every row, including the unfinished block.
      const Array all = ds->read();
      ASSERT_EQ(all.values<std::int64_t>()[static_cast<std::size_t>(total * 3 - 1)], total * 3 - 1);
    }
    ds->append(iota(DType::int64(), Shape{3}));  // a single row
    ++total;
  }
  auto store = Store::open(file, "r");
  auto ds = store->root()->open_dataset("events");
  ASSERT_EQ(ds->shape(), (Shape{total, 3}));
  const Array all = ds->read();
  auto v = all.values<std::int64_t>();
  for (std::int64_t i = 0; i < (total - 1) * 3; ++i)
    ASSERT_EQ(v[static_cast<std::size_t>(i)], i);
  EXPECT_EQ(v[static_cast<std::size_t>(total * 3 - 1)], 2);
  EXPECT_TRUE(store->root()->members().size() == 1);  // larder's side data is not listed
}

TEST(Dataset, AppendRefusesWrongShapesDtypesAndFixedDatasets) {
  TempDir dir;
  auto store = Store::open(dir / "a.h5", "w");
  auto ds = store->root()->create_dataset(
      "x", {.dtype = DType::float32(), .shape = Shape{0, 4}, .extendable = true});
  EXPECT_THROW(ds->append(Array::zeros(DType::float32(), Shape{2, 5})), Error);
  EXPECT_THROW(ds->append(Array::zeros(DType::float64(), Shape{2, 4})), Error);
  auto fixed = store->root()->create_dataset("y", {.dtype = DType::float32(), .shape = Shape{3}});
  EXPECT_THROW(fixed->append(Array::zeros(DType::float32(), Shape{1})), Error);
  EXPECT_EQ(ds->shape(), (Shape{0, 4}));
}

TEST(Dataset, WritesIntoTheUnfinishedBlockAndResizeKeepRows) {
  TempDir dir;
  auto store = Store::open(dir / "a.h5", "w");
  auto ds = store->root()->create_dataset(
      "x", {.dtype = DType::int64(), .shape = Shape{0}, .chunks = {10}, .extendable = true});
  ds->append(iota(DType::int64(), Shape{15}));
  const Array hundred = Array::from_values<std::int64_t>(std::vector<std::int64_t>{100});
  ds->write(Selection::parse("12"), hundred);
  EXPECT_EQ(ds->read(Selection::parse("12")).values<std::int64_t>()[0], 100);
  ds->append(iota(DType::int64(), Shape{2}));
  ds->resize(Shape{20});
  const Array all = ds->read();
  EXPECT_EQ(all.values<std::int64_t>()[12], 100);
  EXPECT_EQ(all.values<std::int64_t>()[16], 1);
  EXPECT_EQ(all.values<std::int64_t>()[19], 0);  // grown rows hold the fill value
}

TEST(Dataset, MetadataFillValuesAndStorageInfo) {
  TempDir dir;
  auto store = Store::open(dir / "m.h5", "w");
  auto ds = store->root()->create_dataset("x", {.dtype = DType::float64(),
                                                .shape = Shape{100, 10},
                                                .codec = {.id = "blosc-zstd", .level = 3},
                                                .fill_value = -1.5});
  EXPECT_EQ(ds->read(Selection::parse("3, 4")).values<double>()[0], -1.5);
  EXPECT_EQ(ds->fill_value(), -1.5);
  EXPECT_EQ(ds->codec()->id, "blosc-zstd");
  EXPECT_EQ(ds->codec()->level, 3);
  EXPECT_EQ(ds->chunks(), (std::vector<std::int64_t>{100, 10}));
  ds->write(Selection(), Array::zeros(DType::float64(), Shape{100, 10}));
  const auto info = ds->storage_info();
  EXPECT_EQ(info.logical_bytes, 8000u);
  EXPECT_LT(info.stored_bytes, 1000u);  // zeros compress
  EXPECT_EQ(info.layout, "chunked");
}

TEST(Dataset, ComplexAndBigEndianFillValuesRoundTripAsJson) {
  TempDir dir;
  for (const char* driver_file : {"f.h5", "f.lmm", "f.zarr"}) {
    SCOPED_TRACE(driver_file);
    auto store = Store::open(dir / driver_file, "w");
    auto c = store->root()->create_dataset(
        "c", {.dtype = DType::from_string("<c8"), .shape = Shape{4}, .fill_value = {1.5, -2}});
    EXPECT_EQ(c->fill_value(), nlohmann::json({1.5, -2}));  // [real, imag]
    const Array values = c->read();
    const auto* first = reinterpret_cast<const std::complex<float>*>(values.data());
    EXPECT_EQ(first[3], std::complex<float>(1.5f, -2.0f));
    auto big = store->root()->create_dataset(
        "big", {.dtype = DType::from_string(">i4"), .shape = Shape{2}, .fill_value = -7});
    EXPECT_EQ(big->fill_value(), -7);
  }
}

TEST(Dataset, BadInputRaisesAndChangesNothing) {
  TempDir dir;
  auto store = Store::open(dir / "b.h5", "w");
  auto root = store->root();
  auto ds = root->create_dataset("x", {.dtype = DType::int64(), .shape = Shape{10}});
  ds->write(Selection(), iota(DType::int64(), Shape{10}));
  EXPECT_THROW(ds->write(Selection::parse("0:3"), Array::zeros(DType::int64(), Shape{4})), Error);
  EXPECT_THROW(ds->write(Selection::parse("0:3"), Array::zeros(DType::int32(), Shape{3})), Error);
  EXPECT_THROW(ds->read(Selection::parse("10")), Error);
  EXPECT_THROW(ds->read(Selection::parse("0, 0")), Error);
  EXPECT_TRUE(same(ds->read(), iota(DType::int64(), Shape{10})));
  try {
    root->create_dataset("c", {.dtype = DType::int64(), .shape = Shape{10, 4}, .chunks = {5, 0}});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
    EXPECT_NE(std::string(e.what()).find("(5, 0)"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(root->contains("c"));
  EXPECT_THROW(
      root->create_dataset("f", {.dtype = DType::int64(), .shape = Shape{3}, .fill_value = "x"}),
      Error);
  EXPECT_FALSE(root->contains("f"));
}

TEST(Dataset, StringsFixedAndVariableLength) {
  TempDir dir;
  const auto file = dir / "s.h5";
  {
    auto store = Store::open(file, "w");
    auto fixed =
        store->root()->create_dataset("fixed", {.dtype = DType::string(5), .shape = Shape{3}});
    fixed->write_strings(Selection(), {"a", "bcd", "efghi"});
    auto v = store->root()->create_dataset("v", {.dtype = DType::vstring(), .shape = Shape{3}});
    v->write_strings(Selection(), {"x", "", "a much longer string"});
    EXPECT_THROW(fixed->write_strings(Selection::parse("0"), {"too long!"}), Error);
    EXPECT_THROW(v->read(), Error);  // variable-length: read_strings
  }
  auto store = Store::open(file, "r");
  EXPECT_EQ(store->root()->open_dataset("fixed")->read_strings(Selection::parse("::-1")),
            (std::vector<std::string>{"efghi", "bcd", "a"}));
  EXPECT_EQ(store->root()->open_dataset("v")->read_strings(Selection::parse("[2, 0]")),
            (std::vector<std::string>{"a much longer string", "x"}));
}

// A read of variable-length strings that repeats a position got the same
// string from libhdf5 once per repeat, and freed it as often (a double free).
TEST(Dataset, RepeatedPositionsOfVariableLengthStringsAreFreedOnce) {
  TempDir dir;
  auto store = Store::open(dir / "v.h5", "w");
  auto v = store->root()->create_dataset("v", {.dtype = DType::vstring(), .shape = Shape{3}});
  v->write_strings(Selection(), {"a", "bc", "def"});
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(v->read_strings(Selection::parse("[2, 0, 2, 2]")),
              (std::vector<std::string>{"def", "a", "def", "def"}));
  }
}

TEST(Dataset, InMemoryFilesWriteBackOnClose) {
  TempDir dir;
  const auto file = dir / "mem.h5";
  {
    auto store = Store::open(file, "w", {.in_memory = true, .write_back = true});
    auto ds = store->root()->create_dataset("x", {.dtype = DType::int64(), .shape = Shape{4}});
    ds->write(Selection(), iota(DType::int64(), Shape{4}));
    EXPECT_EQ(ds->read(Selection::parse("3")).values<std::int64_t>()[0], 3);
  }
  auto store = Store::open(file, "r");
  EXPECT_EQ(store->root()->open_dataset("x")->read().values<std::int64_t>()[2], 2);
  {
    auto scratch = Store::open(dir / "scratch.h5", "w", {.in_memory = true});
    scratch->root()->create_group("tmp");
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "scratch.h5"));
}

TEST(Dataset, UntrustedOpenWalksTheFileInAChildFirst) {
  TempDir dir;
  const auto file = dir / "u.h5";
  {
    auto store = Store::open(file, "w");
    store->root()
        ->create_dataset("x", {.dtype = DType::int64(), .shape = Shape{4}})
        ->write(Selection(), iota(DType::int64(), Shape{4}));
  }
  auto store = Store::open(file, "r", {.untrusted = true});
  EXPECT_EQ(store->root()->open_dataset("x")->read().values<std::int64_t>()[3], 3);
  // Damage the file past its superblock: the child reports it, the caller lives.
  {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(200);
    const std::string junk(400, '\xff');
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  try {
    Store::open(file, "r", {.untrusted = true});
    FAIL() << "a damaged file opened as untrusted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::corrupt);
    EXPECT_EQ(e.file(), file.string());
  }
}

// The read paths by how a store is opened: for writing (chunk locations
// looked up on each read), for reading (locations remembered), in memory
// (raw chunks through libhdf5), and with a cache too small for a chunk or
// none at all. Each selection is read twice: the second read finds what the
// first left behind.
TEST(Dataset, ReadsMatchTheReferenceHoweverTheStoreIsOpened) {
  TempDir dir;
  const auto file = dir / "r.h5";
  const Shape shape{23, 17, 11};
  const Array data = iota(DType::float32(), shape);
  auto all = layouts(shape);
  // Chunks of whole rows land whole on a row slice's output.
  all.push_back({"rows", {.dtype = DType::float32(), .shape = shape, .chunks = {4, 17, 11}}});
  all.push_back(
      {"rows-lz4",
       {.dtype = DType::float32(), .shape = shape, .chunks = {4, 17, 11}, .codec = {.id = "lz4"}}});
  for (const char* id : {"none", "zstd"}) {
    all.push_back({std::string("big-endian-") + id,
                   {.dtype = DType::from_string(">f4"),
                    .shape = shape,
                    .chunks = {5, 3, 4},
                    .codec = {.id = id}}});
  }
  {
    auto store = Store::open(file, "w");
    for (const auto& layout : all)
      store->root()->create_dataset(layout.name, layout.options)->write(Selection(), data);
  }
  const std::vector<std::pair<std::string, StoreOptions>> opens{{"r", {}},
                                                                {"r", {.chunk_cache_bytes = 0}},
                                                                {"r", {.chunk_cache_bytes = 300}},
                                                                {"r", {.in_memory = true}},
                                                                {"r+", {}}};
  std::mt19937_64 rng(11);
  for (const auto& [mode, options] : opens) {
    auto store = Store::open(file, mode, options);
    for (const auto& layout : all) {
      auto ds = store->root()->open_dataset(layout.name);
      for (int trial = 0; trial < 60; ++trial) {
        const Selection sel = random_selection(rng, shape);
        const Array want = take(data, sel);
        ASSERT_TRUE(same(ds->read(sel), want))
            << mode << " " << layout.name << " " << sel.to_string();
        ASSERT_TRUE(same(ds->read(sel), want))
            << mode << " " << layout.name << " " << sel.to_string();
      }
    }
  }
}

// Gathers of a few rows (read run by run) and of many (whole chunks), with
// repeats, out of order, across an edge chunk, chunks split across the
// columns, and chunks never written (the fill value).
TEST(Dataset, GathersMatchTheReferenceOnEveryChunkedLayout) {
  TempDir dir;
  const Shape shape{5000, 6};  // 39 chunks of 128 rows and an edge chunk of 8
  const Array data = iota(DType::float32(), shape);
  Array half = iota(DType::float32(), shape);
  auto h = half.values<float>();
  std::fill(h.begin() + 2560 * 6, h.end(), 7.0f);
  auto store = Store::open(dir / "g.h5", "w");
  std::mt19937_64 rng(5);
  for (const char* codec : {"none", "blosc-lz4", "lz4"}) {
    for (const std::int64_t columns : {6, 4}) {
      const std::string name = std::string(codec) + "-" + std::to_string(columns);
      const DatasetOptions options{.dtype = DType::float32(),
                                   .shape = shape,
                                   .chunks = {128, columns},
                                   .codec = {.id = codec},
                                   .fill_value = 7.0};
      auto full = store->root()->create_dataset(name, options);
      full->write(Selection(), data);
      auto sparse = store->root()->create_dataset(name + "-sparse", options);
      sparse->write(Selection{AxisSelection::slice(0, 2560)},
                    take(data, Selection{AxisSelection::slice(0, 2560)}));
      for (const std::size_t n : {1, 7, 300, 20000}) {
        std::vector<std::int64_t> rows(n);
        for (auto& r : rows)
          r = static_cast<std::int64_t>(rng() % 5000);
        const Selection sel{AxisSelection::indices(rows)};
        ASSERT_TRUE(same(full->gather(rows), take(data, sel))) << name << " " << n;
        ASSERT_TRUE(same(sparse->gather(rows), take(half, sel))) << name << " sparse " << n;
      }
    }
  }
}

// libhdf5 gives chunk addresses from the end of a user block; the data sit
// after it in the file.
TEST(Dataset, ChunksAfterAUserBlockReadBack) {
  TempDir dir;
  const auto file = (dir / "ub.h5").string();
  const Array data = iota(DType::int64(), Shape{100, 3});
  {
    const hid_t fcpl = H5Pcreate(H5P_FILE_CREATE);
    H5Pset_userblock(fcpl, 512);
    const hid_t f = H5Fcreate(file.c_str(), H5F_ACC_TRUNC, fcpl, H5P_DEFAULT);
    const hsize_t dims[2] = {100, 3};
    const hsize_t chunk[2] = {16, 3};
    const hid_t space = H5Screate_simple(2, dims, nullptr);
    const hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 2, chunk);
    const hid_t d = H5Dcreate2(f, "x", H5T_STD_I64LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    ASSERT_GE(H5Dwrite(d, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, data.data()), 0);
    H5Dclose(d);
    H5Pclose(dcpl);
    H5Sclose(space);
    H5Fclose(f);
    H5Pclose(fcpl);
  }
  auto store = Store::open(file, "r");
  auto ds = store->root()->open_dataset("x");
  EXPECT_TRUE(same(ds->read(), data));
  const std::vector<std::int64_t> rows{99, 3, 3, 50};
  EXPECT_TRUE(same(ds->gather(rows), take(data, Selection{AxisSelection::indices(rows)})));
}

// A file a few bytes short still opens (see Store::open); its last chunk,
// now past the end, is corrupt, named by file and path, whether read whole
// or run by run.
TEST(Dataset, AChunkPastTheEndOfAShortFileIsCorrupt) {
  TempDir dir;
  const Array data = iota(DType::float32(), Shape{4096, 16});
  for (const char* codec : {"none", "blosc-lz4"}) {
    const auto file = dir / (std::string(codec) + ".h5");
    {
      auto store = Store::open(file, "w");
      store->root()
          ->create_dataset("x", {.dtype = DType::float32(),
                                 .shape = data.shape(),
                                 .chunks = {256, 16},
                                 .codec = {.id = codec}})
          ->write(Selection(), data);
    }
    std::filesystem::resize_file(file, std::filesystem::file_size(file) - 100);
    auto store = Store::open(file, "r");
    auto ds = store->root()->open_dataset("x");
    for (const Selection& sel : {Selection(), Selection{AxisSelection::indices({4090, 5})}}) {
      try {
        ds->read(sel);
        ADD_FAILURE() << codec << " read past the end of the file";
      } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::corrupt) << codec << " " << e.what();
        EXPECT_EQ(e.file(), file.string());
        EXPECT_EQ(e.path(), "/x");
      }
    }
    EXPECT_TRUE(same(ds->read(Selection{AxisSelection::slice(0, 3840)}),
                     take(data, Selection{AxisSelection::slice(0, 3840)})));
  }
}

}  // namespace
}  // namespace larder::store
