// The zarr v2 driver (.zarr directories): groups and attributes, every
// dtype, codec and selection against the in-memory reference, fill values
// and missing chunks, edge chunks, resize, append, both chunk key
// separators, Fortran order, modes, and bad input that must give clear
// errors and change nothing. Interop with zarr-python is in
// tests/python/test_zarr.py.
#include <gtest/gtest.h>

#include <complex>
#include <fstream>
#include <numeric>
#include <random>

#include "../../src/store/zarr/metadata.h"
#include "error_of.h"
#include "larder/codec/registry.h"
#include "larder/core/error.h"
#include "larder/store/copy.h"
#include "larder/store/store.h"
#include "store/random_selection.h"
#include "store/temp_dir.h"

namespace larder::store {
namespace {

namespace fs = std::filesystem;
using larder::testing::error_of;
using larder::testing::has_repeats;
using larder::testing::random_selection;
using larder::testing::TempDir;

Array iota(DType dtype, Shape shape, std::int64_t start = 0) {
  Array a = Array::empty(dtype, std::move(shape));
  if (dtype == DType::float32()) {
    auto v = a.values<float>();
    for (std::size_t i = 0; i < v.size(); ++i)
      v[i] = static_cast<float>(start + static_cast<std::int64_t>(i)) * 0.5f;
  } else {
    auto v = a.values<std::int64_t>();
    std::iota(v.begin(), v.end(), start);
  }
  return a;
}

bool same(const Array& a, const Array& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() &&
         std::equal(a.bytes().begin(), a.bytes().end(), b.bytes().begin());
}

std::vector<std::int64_t> ints(const Array& a) {
  const auto v = a.values<std::int64_t>();
  return {v.begin(), v.end()};
}

std::string slurp(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

void spit(const fs::path& file, const std::string& text) {
  std::ofstream(file, std::ios::binary | std::ios::trunc) << text;
}

nlohmann::json zarray_of(const fs::path& dir) {
  return nlohmann::json::parse(slurp(dir / ".zarray"));
}

// Every file under `dir` with its bytes: what "the store is unchanged" means.
std::map<std::string, std::string> snapshot(const fs::path& dir) {
  std::map<std::string, std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) files[fs::relative(e.path(), dir).string()] = slurp(e.path());
  }
  return files;
}

TEST(ZarrStore, RoundTripsGroupsArraysAndAttributes) {
  TempDir dir;
  const auto file = dir / "x.zarr";
  {
    auto st = Store::open(file, "w");
    EXPECT_EQ(st->driver(), "zarr");
    auto a = st->root()->create_dataset("g/h/a", {.dtype = DType::int64(), .shape = Shape{4, 3}});
    a->write(Selection(), iota(DType::int64(), Shape{4, 3}));
    a->attrs().set("units", nlohmann::json("m"));
    a->attrs().set("lut", iota(DType::int64(), Shape{2, 2}).view());
    st->root()->attrs().set("run", nlohmann::json(7));
    st->root()->attrs().set("params", nlohmann::json{{"n", 3}, {"names", {"x", "y"}}});
    st->root()->create_group("e");
    st->root()->require_group("g/h2");
    EXPECT_EQ(error_of([&] { st->root()->create_group("g/h"); }), ErrorCode::invalid_argument);
    EXPECT_EQ(error_of([&] { st->root()->create_group("g/h/a/b"); }), ErrorCode::type_mismatch);
    EXPECT_EQ(error_of([&] { st->root()->create_group(".hidden"); }), ErrorCode::invalid_argument);
  }
  // zarr-python's layout: .zgroup per group, .zarray per array, .zattrs beside.
  EXPECT_EQ(nlohmann::json::parse(slurp(file / ".zgroup")), (nlohmann::json{{"zarr_format", 2}}));
  EXPECT_TRUE(fs::exists(file / "g" / "h" / ".zgroup"));
  EXPECT_TRUE(fs::exists(file / "g" / "h" / "a" / "0.0"));
  EXPECT_EQ(nlohmann::json::parse(slurp(file / "g" / "h" / "a" / ".zattrs"))["lut"],
            nlohmann::json::parse("[[0, 1], [2, 3]]"));

  auto st = Store::open(file, "r");  // found by its suffix
  std::vector<std::string> seen;
  st->root()->visit([&](const std::string& path, NodeKind) { seen.push_back(path); });
  EXPECT_EQ(seen, (std::vector<std::string>{"e", "g", "g/h", "g/h/a", "g/h2"}));
  auto a = st->root()->open_dataset("/g/h/a");
  EXPECT_EQ(a->shape(), (Shape{4, 3}));
  EXPECT_EQ(a->read(Selection::parse("2, 1")).values<std::int64_t>()[0], 7);
  EXPECT_EQ(a->attrs().get_json("units"), "m");
  // Array attributes are stored as zarr-python stores numpy arrays: JSON lists.
  EXPECT_EQ(a->attrs().get_json("lut"), nlohmann::json::parse("[[0, 1], [2, 3]]"));
  EXPECT_EQ(a->attrs().names(), (std::vector<std::string>{"lut", "units"}));
  EXPECT_EQ(st->root()->attrs().get_json("params")["names"][1], "y");
  EXPECT_TRUE(st->root()->contains("g/h/a"));
  EXPECT_FALSE(st->root()->contains("g/a"));
  EXPECT_FALSE(st->root()->contains("g/h/a/0.0"));
  EXPECT_EQ(error_of([&] { st->root()->open("g/nope"); }), ErrorCode::not_found);
  EXPECT_EQ(error_of([&] { a->attrs().get("nope"); }), ErrorCode::not_found);
  EXPECT_EQ(error_of([&] {
              a->write(Selection(), iota(DType::int64(), Shape{4, 3}));
            }),
            ErrorCode::invalid_argument);  // read-only store
  EXPECT_EQ(error_of([&] { a->attrs().set("x", nlohmann::json(1)); }), ErrorCode::invalid_argument);

  auto w = Store::open(file, "r+");
  auto mine = w->root()->open_dataset("g/h/a");
  w->root()->open_group("g")->remove("h");
  EXPECT_FALSE(fs::exists(file / "g" / "h"));
  EXPECT_EQ(w->root()->open_group("g")->members().size(), 1u);
  EXPECT_EQ(error_of([&] { mine->read(); }), ErrorCode::not_found);  // its array was removed
  EXPECT_EQ(error_of([&] { a->read(); }), ErrorCode::not_found);     // seen by a reader too
  w->root()->attrs().remove("run");
  EXPECT_FALSE(w->root()->attrs().contains("run"));
  w->close();
  EXPECT_EQ(error_of([&] { w->root(); }), ErrorCode::invalid_argument);
}

TEST(ZarrStore, ModesCreateOpenAndRefuseAsTheOtherDrivers) {
  TempDir dir;
  const auto file = dir / "m.zarr";
  EXPECT_EQ(error_of([&] { Store::open(file, "r"); }), ErrorCode::not_found);
  EXPECT_EQ(error_of([&] { Store::open(file, "r+"); }), ErrorCode::not_found);
  Store::open(file, "a")->root()->create_group("kept");
  EXPECT_TRUE(Store::open(file, "a")->root()->contains("kept"));
  EXPECT_EQ(error_of([&] { Store::open(file, "w-"); }), ErrorCode::io);
  EXPECT_FALSE(Store::open(file, "w")->root()->contains("kept"));  // w replaces

  // Found without the suffix by its .zgroup; w replaces only zarr stores.
  fs::rename(file, dir / "plain");
  EXPECT_EQ(Store::open(dir / "plain", "r")->driver(), "zarr");
  fs::create_directories(dir / "other.zarr" / "stuff");
  EXPECT_EQ(error_of([&] { Store::open(dir / "other.zarr", "w"); }), ErrorCode::invalid_argument);
  EXPECT_TRUE(fs::exists(dir / "other.zarr" / "stuff"));
  EXPECT_EQ(error_of([&] { Store::open(dir / "other.zarr", "r"); }), ErrorCode::corrupt);
  // An empty directory becomes a store.
  fs::create_directories(dir / "empty.zarr");
  Store::open(dir / "empty.zarr", "a");
  EXPECT_TRUE(fs::exists(dir / "empty.zarr" / ".zgroup"));
  // zarr.open(path, shape=...) makes an array at the root: not a larder store.
  fs::create_directories(dir / "root_array.zarr");
  spit(dir / "root_array.zarr" / ".zarray",
       R"({"zarr_format": 2, "shape": [2], "chunks": [2], "dtype": "<i4", "compressor": null,
           "fill_value": 0, "order": "C", "filters": null})");
  std::string why;
  EXPECT_EQ(error_of([&] { Store::open(dir / "root_array.zarr", "r"); }, &why),
            ErrorCode::unsupported);
  EXPECT_NE(why.find("root is an array"), std::string::npos) << why;
  EXPECT_EQ(error_of([&] { Store::open(dir / "x.zarr", "w", {.zarr_dimension_separator = "-"}); }),
            ErrorCode::invalid_argument);
}

// Chunks that do not divide the shape, every codec zarr has, and Fortran
// order: reads and writes against take() and put() on the whole array.
TEST(ZarrDataset, ReadsAndWritesMatchTheInMemoryReference) {
  TempDir dir;
  const Shape shape{23, 17, 11};
  const Array data = iota(DType::float32(), shape);
  auto store = Store::open(dir / "d.zarr", "w");
  std::mt19937_64 rng(42);
  std::vector<std::pair<std::string, DatasetOptions>> layouts;
  for (const char* id : {"none", "blosc-lz4", "blosc-zstd", "zstd", "lz4", "gzip"}) {
    layouts.push_back(
        {id,
         {.dtype = DType::float32(), .shape = shape, .chunks = {5, 3, 4}, .codec = {.id = id}}});
  }
  layouts.push_back({"default-chunks", {.dtype = DType::float32(), .shape = shape}});
  layouts.push_back(
      {"big-chunks", {.dtype = DType::float32(), .shape = shape, .chunks = {30, 20, 20}}});
  for (const auto& [name, options] : layouts) {
    SCOPED_TRACE(name);
    auto ds = store->root()->create_dataset(name, options);
    ds->write(Selection(), data);
    for (int trial = 0; trial < 100; ++trial) {
      const Selection sel = random_selection(rng, shape);
      ASSERT_TRUE(same(ds->read(sel), take(data, sel))) << sel.to_string();
    }
    Array reference = data.clone();
    for (int trial = 0; trial < 30; ++trial) {
      const Selection sel = random_selection(rng, shape);
      if (has_repeats(sel, shape)) continue;
      const Array values = iota(DType::float32(), sel.result_shape(shape), 1000 * trial);
      put(reference.mutable_view(), sel, values);
      ds->write(sel, values);
    }
    ASSERT_TRUE(same(ds->read(), reference));
  }
}

TEST(ZarrDataset, EveryDtypeRoundTripsWithItsNumpyTypestr) {
  TempDir dir;
  auto store = Store::open(dir / "t.zarr", "w");
  const std::vector<std::pair<std::string, std::string>> types{
      {"|b1", "bool"},      {"|i1", "int8"},        {"<i2", "int16"},   {"<i4", "int32"},
      {"<i8", "int64"},     {"|u1", "uint8"},       {"<u2", "uint16"},  {"<u4", "uint32"},
      {"<u8", "uint64"},    {"<f2", "float16"},     {"<f4", "float32"}, {"<f8", "float64"},
      {"<c8", "complex64"}, {"<c16", "complex128"}, {"|S5", "S5"},      {">i8", "big"},
      {">f4", "bigf"},      {">c16", "bigc"}};
  std::mt19937_64 rng(3);
  for (const auto& [typestr, name] : types) {
    SCOPED_TRACE(typestr);
    const DType dtype = DType::from_string(typestr);
    auto ds = store->root()->create_dataset(
        name, {.dtype = dtype, .shape = Shape{9, 5}, .chunks = {4, 2}, .codec = {.id = "zstd"}});
    EXPECT_EQ(zarray_of(dir / "t.zarr" / name)["dtype"], typestr);
    Array values = Array::empty(dtype.native(), Shape{9, 5});
    // Random bits (floats compare bit for bit, NaN payloads included).
    for (auto& b : values.bytes())
      b = static_cast<std::byte>(dtype.kind() == DTypeKind::boolean ? rng() % 2 : rng() % 256);
    ds->write(Selection(), values);
    const Array back = Store::open(dir / "t.zarr", "r")->root()->open_dataset(name)->read();
    EXPECT_EQ(back.dtype(), dtype.native());
    EXPECT_TRUE(std::equal(back.bytes().begin(), back.bytes().end(), values.bytes().begin()));
  }
  // Big-endian chunks are stored big-endian: the bytes zarr-python reads.
  auto big = store->root()->open_dataset("big");
  big->write(Selection::parse("0, 0"),
             Array::from_values<std::int64_t>(std::vector<std::int64_t>{0x0102030405060708}));
  const auto codec = codec::make_codec({.id = "zstd"});
  const std::string stored = slurp(dir / "t.zarr" / "big" / "0.0");
  std::vector<std::byte> chunk(4 * 2 * 8);
  codec->decode(std::as_bytes(std::span(stored)), chunk);
  EXPECT_EQ(chunk[0], std::byte{1});
  EXPECT_EQ(chunk[7], std::byte{8});
  // Fixed-length byte strings, NUL padded.
  auto s = store->root()->create_dataset("s", {.dtype = DType::string(4), .shape = Shape{3}});
  s->write_strings(Selection(), {"a", "bcd", "efgh"});
  EXPECT_EQ(s->read_strings(Selection::parse("::-1")),
            (std::vector<std::string>{"efgh", "bcd", "a"}));
  EXPECT_EQ(error_of([&] { s->write_strings(Selection::parse("0"), {"too long"}); }),
            ErrorCode::invalid_argument);
  EXPECT_EQ(error_of([&] {
              store->root()->create_dataset("v", {.dtype = DType::vstring(), .shape = Shape{3}});
            }),
            ErrorCode::unsupported);
}

TEST(ZarrDataset, CodecsAreStoredAsNumcodecsConfigs) {
  TempDir dir;
  auto store = Store::open(dir / "c.zarr", "w");
  const std::vector<std::pair<codec::CodecSpec, nlohmann::json>> cases{
      {{.id = "none"}, nullptr},
      {{.id = "blosc-lz4", .level = 5},
       {{"id", "blosc"}, {"cname", "lz4"}, {"clevel", 5}, {"shuffle", 1}, {"blocksize", 0}}},
      {{.id = "blosc-zstd", .level = 3, .shuffle = codec::Shuffle::bit},
       {{"id", "blosc"}, {"cname", "zstd"}, {"clevel", 3}, {"shuffle", 2}, {"blocksize", 0}}},
      {{.id = "zstd", .level = 4}, {{"id", "zstd"}, {"level", 4}}},
      {{.id = "lz4"}, {{"id", "lz4"}, {"acceleration", 1}}},
      {{.id = "gzip", .level = 6}, {{"id", "zlib"}, {"level", 6}}},
      {{.id = "gzip", .level = 2, .format = "gzip"}, {{"id", "gzip"}, {"level", 2}}},
  };
  int i = 0;
  for (const auto& [spec, config] : cases) {
    const std::string name = "a" + std::to_string(i++);
    SCOPED_TRACE(spec.to_string());
    auto ds = store->root()->create_dataset(
        name, {.dtype = DType::int64(), .shape = Shape{100}, .chunks = {30}, .codec = spec});
    ds->write(Selection(), iota(DType::int64(), Shape{100}));
    EXPECT_EQ(zarray_of(dir / "c.zarr" / name)["compressor"], config);
    auto reader = Store::open(dir / "c.zarr", "r");
    auto back = reader->root()->open_dataset(name);
    EXPECT_EQ(back->codec()->id, spec.id);
    EXPECT_TRUE(same(back->read(), iota(DType::int64(), Shape{100})));
    EXPECT_EQ(back->storage_info().filters, spec.id == "none" ? "" : back->codec()->to_string());
  }
  // Codecs numcodecs has no config for.
  for (const char* id : {"bitshuffle", "lzf"}) {
    EXPECT_EQ(error_of([&] {
                store->root()->create_dataset(
                    id, {.dtype = DType::int64(), .shape = Shape{10}, .codec = {.id = id}});
              }),
              ErrorCode::unsupported);
    EXPECT_FALSE(store->root()->contains(id));
    EXPECT_FALSE(fs::exists(dir / "c.zarr" / id));
  }
}

TEST(ZarrDataset, MissingChunksReadAsTheFillValue) {
  TempDir dir;
  const auto root = dir / "f.zarr";
  auto store = Store::open(root, "w");
  auto f = store->root()->create_dataset(
      "f",
      {.dtype = DType::float64(), .shape = Shape{10}, .chunks = {4}, .fill_value = std::nan("")});
  EXPECT_EQ(zarray_of(root / "f")["fill_value"], "NaN");  // zarr's spelling
  EXPECT_TRUE(std::isnan(f->fill_value().get<double>()));
  f->write(Selection::parse("5"), Array::from_values<double>(std::vector<double>{2.5}));
  EXPECT_EQ(fs::exists(root / "f" / "0"), false);  // never written: no file
  const Array all = f->read();
  EXPECT_TRUE(std::isnan(all.values<double>()[0]));
  EXPECT_TRUE(std::isnan(all.values<double>()[4]));  // the rest of a written chunk: fill too
  EXPECT_EQ(all.values<double>()[5], 2.5);
  EXPECT_TRUE(std::isnan(all.values<double>()[9]));

  auto i = store->root()->create_dataset(
      "i",
      {.dtype = DType::int16(), .shape = Shape{5}, .codec = {.id = "blosc-lz4"}, .fill_value = -3});
  EXPECT_EQ(zarray_of(root / "i")["fill_value"], -3);
  EXPECT_EQ(i->fill_value(), -3);
  EXPECT_EQ(i->read().values<std::int16_t>()[4], -3);
  auto s = store->root()->create_dataset(
      "s", {.dtype = DType::string(5), .shape = Shape{2}, .fill_value = "ab"});
  EXPECT_EQ(zarray_of(root / "s")["fill_value"], "YWI=");  // base64, as zarr stores bytes
  EXPECT_EQ(s->read_strings(Selection()), (std::vector<std::string>{"ab", "ab"}));
  auto c = store->root()->create_dataset(
      "c", {.dtype = DType::complex64(), .shape = Shape{2}, .fill_value = {1.5, -2}});
  EXPECT_EQ(zarray_of(root / "c")["fill_value"], nlohmann::json({1.5, -2.0}));
  EXPECT_EQ(reinterpret_cast<const std::complex<float>*>(c->read().data())[1],
            std::complex<float>(1.5f, -2.0f));
  auto h = store->root()->create_dataset(
      "h", {.dtype = DType::float16(), .shape = Shape{2}, .fill_value = 1.5});
  EXPECT_EQ(h->fill_value(), 1.5);
  auto z = store->root()->create_dataset("z", {.dtype = DType::float32(), .shape = Shape{2}});
  EXPECT_EQ(zarray_of(root / "z")["fill_value"], 0.0);  // null in options: zeros, written out
  EXPECT_EQ(error_of([&] {
              store->root()->create_dataset(
                  "bad", {.dtype = DType::uint8(), .shape = Shape{2}, .fill_value = "x"});
            }),
            ErrorCode::invalid_argument);
  EXPECT_FALSE(store->root()->contains("bad"));

  // A chunk deleted behind larder's back reads as fill, not as an error.
  f->write(Selection(), Array::from_values<double>(std::vector<double>(10, 1.0)));
  fs::remove(root / "f" / "1");
  EXPECT_TRUE(std::isnan(f->read(Selection::parse("6")).values<double>()[0]));
  EXPECT_EQ(f->read(Selection::parse("3")).values<double>()[0], 1.0);
}

TEST(ZarrDataset, EdgeChunksAreStoredWhole) {
  TempDir dir;
  auto store = Store::open(dir / "e.zarr", "w");
  auto ds = store->root()->create_dataset(
      "x", {.dtype = DType::int64(), .shape = Shape{10, 7}, .chunks = {4, 3}, .fill_value = -1});
  ds->write(Selection(), iota(DType::int64(), Shape{10, 7}));
  std::uint64_t total = 0;
  for (const auto& e : fs::directory_iterator(dir / "e.zarr" / "x")) {
    if (e.path().filename().string().starts_with('.')) continue;
    EXPECT_EQ(e.file_size(), 4u * 3u * 8u) << e.path();  // 3 x 3 whole chunks, edges included
    total += e.file_size();
  }
  EXPECT_EQ(total, 9u * 96u);
  EXPECT_EQ(ds->storage_info().stored_bytes, total);
  EXPECT_EQ(ds->storage_info().logical_bytes, 560u);
  // The part of an edge chunk past the array holds the fill value.
  const std::string edge = slurp(dir / "e.zarr" / "x" / "2.2");
  std::int64_t last = 0;
  std::memcpy(&last, edge.data() + edge.size() - 8, 8);
  EXPECT_EQ(last, -1);
  EXPECT_TRUE(same(ds->read(), iota(DType::int64(), Shape{10, 7})));
}

TEST(ZarrDataset, ResizeGrowsAndShrinksDeletingChunksOutside) {
  TempDir dir;
  const auto x = dir / "r.zarr" / "x";
  auto store = Store::open(dir / "r.zarr", "w");
  auto ds = store->root()->create_dataset(
      "x", {.dtype = DType::int64(), .shape = Shape{10, 6}, .chunks = {4, 4}, .fill_value = 9});
  ds->write(Selection(), iota(DType::int64(), Shape{10, 6}));
  EXPECT_TRUE(fs::exists(x / "2.1"));
  ds->resize(Shape{5, 3});
  EXPECT_EQ(ds->shape(), (Shape{5, 3}));
  EXPECT_EQ(zarray_of(x)["shape"], nlohmann::json({5, 3}));
  for (const char* gone : {"2.0", "2.1", "0.1", "1.1"})
    EXPECT_FALSE(fs::exists(x / gone)) << gone;
  EXPECT_TRUE(fs::exists(x / "1.0"));
  // Growing again shows the fill value where values were cut, not old ones.
  ds->resize(Shape{10, 6});
  const Array all = ds->read();
  const auto v = all.values<std::int64_t>();
  for (std::int64_t r = 0; r < 10; ++r) {
    for (std::int64_t c = 0; c < 6; ++c) {
      const std::int64_t want = r < 5 && c < 3 ? r * 6 + c : 9;
      ASSERT_EQ(v[static_cast<std::size_t>(r * 6 + c)], want) << r << ", " << c;
    }
  }
  EXPECT_EQ(error_of([&] { ds->resize(Shape{4}); }), ErrorCode::invalid_argument);
  auto reader = Store::open(dir / "r.zarr", "r");
  auto reopened = reader->root()->open_dataset("x");
  EXPECT_EQ(reopened->shape(), (Shape{10, 6}));
  EXPECT_TRUE(reopened->extendable());  // every zarr array can grow
}

TEST(ZarrDataset, AppendsCommitChunksThenTheShape) {
  TempDir dir;
  const auto file = dir / "a.zarr";
  auto store = Store::open(file, "w");
  auto ds = store->root()->create_dataset(
      "a",
      {.dtype = DType::int64(), .shape = Shape{0, 3}, .chunks = {64, 3}, .codec = {.id = "zstd"}});
  auto reader = Store::open(file, "r");
  auto seen = reader->root()->open_dataset("a");
  std::int64_t total = 0;
  for (std::int64_t n : {1, 3, 64, 100, 7, 129, 0, 500, 2}) {
    Array rows = iota(DType::int64(), Shape{n, 3}, total * 3);
    ds->append(rows);
    total += n;
    ASSERT_EQ(ds->shape(), (Shape{total, 3}));
    ASSERT_EQ(seen->shape(), (Shape{total, 3}));  // a reader sees each commit
  }
  ds->append(iota(DType::int64(), Shape{3}, total * 3));  // one row
  ++total;
  EXPECT_EQ(zarray_of(file / "a")["shape"], nlohmann::json({total, 3}));
  EXPECT_TRUE(same(seen->read(), iota(DType::int64(), Shape{total, 3})));
  EXPECT_EQ(error_of([&] {
              ds->append(Array::zeros(DType::int64(), Shape{2, 4}));
            }),
            ErrorCode::invalid_argument);
  EXPECT_EQ(error_of([&] {
              ds->append(Array::zeros(DType::int32(), Shape{2, 3}));
            }),
            ErrorCode::type_mismatch);
  EXPECT_EQ(ds->shape(), (Shape{total, 3}));
  // Even an array created without extendable appends: zarr arrays always can.
  auto fixed = store->root()->create_dataset("f", {.dtype = DType::int64(), .shape = Shape{2}});
  fixed->append(iota(DType::int64(), Shape{3}, 2));
  EXPECT_EQ(ints(fixed->read()), (std::vector<std::int64_t>{0, 0, 2, 3, 4}));
  // A writer killed after writing an append's chunks but before the new
  // .zarray leaves the array as it was: stray chunk bytes past the shape
  // are never read.
  const std::string before = slurp(file / "a" / ".zarray");
  ds->append(iota(DType::int64(), Shape{70, 3}));
  spit(file / "a" / ".zarray", before);
  auto crashed = Store::open(file, "r");
  auto after_crash = crashed->root()->open_dataset("a");
  EXPECT_EQ(after_crash->shape(), (Shape{total, 3}));
  EXPECT_TRUE(same(after_crash->read(), iota(DType::int64(), Shape{total, 3})));
}

TEST(ZarrDataset, GatherTakesRowsInAnyOrderWithRepeats) {
  TempDir dir;
  auto store = Store::open(dir / "g.zarr", "w");
  const Array data = iota(DType::int64(), Shape{10000, 4});
  for (const char* id : {"none", "blosc-lz4"}) {
    auto ds = store->root()->create_dataset(
        id,
        {.dtype = DType::int64(), .shape = data.shape(), .chunks = {256, 4}, .codec = {.id = id}});
    ds->write(Selection(), data);
    std::vector<std::int64_t> rows{9999, 0, 5000, 0, 17, 9999, 4096, -1};
    const Array got = ds->gather(rows);
    ASSERT_EQ(got.shape(), (Shape{8, 4}));
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const std::int64_t row = rows[i] < 0 ? 10000 + rows[i] : rows[i];
      EXPECT_EQ(got.values<std::int64_t>()[i * 4 + 3], row * 4 + 3);
    }
    EXPECT_EQ(error_of([&] { ds->gather(std::vector<std::int64_t>{10000}); }),
              ErrorCode::out_of_range);
  }
  auto scalar = store->root()->create_dataset("s", {.dtype = DType::int64(), .shape = Shape{}});
  EXPECT_EQ(error_of([&] { scalar->gather(std::vector<std::int64_t>{0}); }),
            ErrorCode::invalid_argument);
}

TEST(ZarrDataset, SlashSeparatorNestsChunkDirectories) {
  TempDir dir;
  const auto file = dir / "s.zarr";
  {
    auto store = Store::open(file, "w", {.zarr_dimension_separator = "/"});
    auto ds = store->root()->create_dataset(
        "x",
        {.dtype = DType::int64(), .shape = Shape{5, 5}, .chunks = {2, 2}, .codec = {.id = "zstd"}});
    ds->write(Selection(), iota(DType::int64(), Shape{5, 5}));
    EXPECT_EQ(zarray_of(file / "x")["dimension_separator"], "/");
    EXPECT_TRUE(fs::is_regular_file(file / "x" / "2" / "1"));
    EXPECT_FALSE(fs::exists(file / "x" / "2.1"));
    EXPECT_EQ(ds->storage_info().stored_bytes > 0, true);
    ds->resize(Shape{3, 3});
    EXPECT_FALSE(fs::exists(file / "x" / "2" / "2"));
    EXPECT_TRUE(fs::exists(file / "x" / "1" / "1"));
    auto one = store->root()->create_dataset("one", {.dtype = DType::int64(), .shape = Shape{3}});
    one->write(Selection(), iota(DType::int64(), Shape{3}));
    EXPECT_TRUE(fs::is_regular_file(file / "one" / "0"));
  }
  // The separator of an existing array is its own, whatever the store's.
  auto store = Store::open(file, "r+");
  auto ds = store->root()->open_dataset("x");
  ds->write(Selection::parse("0, 0"),
            Array::from_values<std::int64_t>(std::vector<std::int64_t>{-5}));
  EXPECT_FALSE(fs::exists(file / "x" / "0.0"));
  const Array all = ds->read();
  EXPECT_EQ(ints(all), (std::vector<std::int64_t>{-5, 1, 2, 5, 6, 7, 10, 11, 12}));
  EXPECT_EQ(zarray_of(file / "one").value("dimension_separator", ""), "/");
}

TEST(ZarrDataset, ScalarArraysUseChunkKeyZero) {
  TempDir dir;
  auto store = Store::open(dir / "z.zarr", "w");
  auto ds = store->root()->create_dataset("s", {.dtype = DType::float64(), .shape = Shape{}});
  EXPECT_EQ(zarray_of(dir / "z.zarr" / "s")["chunks"], nlohmann::json::array());
  ds->write(Selection(), Array::from_values<double>(std::vector<double>{4.5}).reshaped(Shape{}));
  EXPECT_TRUE(fs::exists(dir / "z.zarr" / "s" / "0"));
  EXPECT_EQ(ds->read().values<double>()[0], 4.5);
  EXPECT_FALSE(ds->extendable());
  EXPECT_EQ(error_of([&] { ds->append(Array::zeros(DType::float64(), Shape{})); }),
            ErrorCode::invalid_argument);
}

TEST(ZarrDataset, FortranOrderArraysReadAndWriteInTheirOrder) {
  TempDir dir;
  const auto file = dir / "f.zarr";
  Store::open(file, "w")->root()->create_dataset(
      "x", {.dtype = DType::int32(), .shape = Shape{3, 4}, .chunks = {2, 3}});
  // As zarr-python writes order "F": each chunk's elements column by column.
  nlohmann::json meta = zarray_of(file / "x");
  meta["order"] = "F";
  spit(file / "x" / ".zarray", meta.dump());
  std::vector<std::int32_t> chunk00{0, 10, 1, 11, 2, 12};  // rows 0-1, columns 0-2
  spit(file / "x" / "0.0", std::string(reinterpret_cast<const char*>(chunk00.data()), 24));
  auto store = Store::open(file, "r+");
  auto ds = store->root()->open_dataset("x");
  const Array block = ds->read(Selection::parse("0:2, 0:3"));
  const auto v = block.values<std::int32_t>();
  EXPECT_EQ(std::vector<std::int32_t>(v.begin(), v.end()),
            (std::vector<std::int32_t>{0, 1, 2, 10, 11, 12}));
  ds->write(Selection::parse("1, 2"),
            Array::from_values<std::int32_t>(std::vector<std::int32_t>{99}));
  const std::string stored = slurp(file / "x" / "0.0");
  std::int32_t last = 0;
  std::memcpy(&last, stored.data() + 20, 4);  // (1, 2) is the last element in F order
  EXPECT_EQ(last, 99);
  EXPECT_EQ(ds->read(Selection::parse("1, 2")).values<std::int32_t>()[0], 99);
}

TEST(ZarrDataset, ChunkCacheNeverServesAReplacedChunk) {
  TempDir dir;
  const auto file = dir / "c.zarr";
  auto store = Store::open(file, "w");
  auto ds = store->root()->create_dataset(
      "x", {.dtype = DType::int64(), .shape = Shape{100}, .chunks = {50}, .codec = {.id = "zstd"}});
  ds->write(Selection(), iota(DType::int64(), Shape{100}));
  auto reader = Store::open(file, "r");
  auto seen = reader->root()->open_dataset("x");
  EXPECT_EQ(seen->read(Selection::parse("3")).values<std::int64_t>()[0], 3);  // now cached
  ds->write(Selection::parse("4"), Array::from_values<std::int64_t>(std::vector<std::int64_t>{-4}));
  EXPECT_EQ(seen->read(Selection::parse("4")).values<std::int64_t>()[0], -4);
  EXPECT_EQ(ds->read(Selection::parse("4")).values<std::int64_t>()[0], -4);
}

TEST(ZarrDataset, ConsolidatedMetadataIsRemovedBeforeItGoesStale) {
  TempDir dir;
  const auto file = dir / "c.zarr";
  Store::open(file, "w")->root()->create_dataset("x", {.dtype = DType::int64(), .shape = Shape{4}});
  spit(file / ".zmetadata", R"({"metadata": {}, "zarr_consolidated_format": 1})");
  {
    auto store = Store::open(file, "r+");
    auto x = store->root()->open_dataset("x");
    x->write(Selection(), iota(DType::int64(), Shape{4}));  // chunks only: still valid
    EXPECT_TRUE(fs::exists(file / ".zmetadata"));
    x->resize(Shape{8});
    EXPECT_FALSE(fs::exists(file / ".zmetadata"));
  }
  spit(file / ".zmetadata", "{}");
  Store::open(file, "r+")->root()->attrs().set("a", nlohmann::json(1));
  EXPECT_FALSE(fs::exists(file / ".zmetadata"));
}

TEST(ZarrDataset, CopiesToAndFromOtherDrivers) {
  TempDir dir;
  auto h5 = Store::open(dir / "a.h5", "w");
  auto src = h5->root()->create_dataset("g/x", {.dtype = DType::float32(),
                                                .shape = Shape{300, 7},
                                                .chunks = {64, 7},
                                                .codec = {.id = "lz4"}});
  src->write(Selection(), iota(DType::float32(), Shape{300, 7}));
  src->attrs().set("unit", nlohmann::json("s"));
  auto zs = Store::open(dir / "b.zarr", "w");
  copy(*h5->root(), "g", *zs->root(), "g");
  auto copied = zs->root()->open_dataset("g/x");
  EXPECT_EQ(copied->codec()->id, "lz4");  // HDF5's lz4 framing becomes numcodecs'
  EXPECT_EQ(copied->codec()->format, "numcodecs");
  EXPECT_TRUE(same(copied->read(), iota(DType::float32(), Shape{300, 7})));
  EXPECT_EQ(copied->attrs().get_json("unit"), "s");
  auto back = Store::open(dir / "c.h5", "w");
  copy(*zs->root(), "g/x", *back->root(), "y");
  EXPECT_TRUE(same(back->root()->open_dataset("y")->read(), iota(DType::float32(), Shape{300, 7})));
}

TEST(ZarrDataset, HundredMegabyteArraysRoundTrip) {
  TempDir dir;
  const Shape shape{6400, 4096};  // 100 MiB of float32
  Array data = Array::empty(DType::float32(), shape);
  auto v = data.values<float>();
  std::mt19937 rng(5);
  std::normal_distribution<float> normal;
  for (std::size_t i = 0; i < v.size(); ++i)
    v[i] = i % 4 == 0 ? normal(rng) : static_cast<float>(i % 1000);
  auto store = Store::open(dir / "big.zarr", "w");
  auto ds = store->root()->create_dataset(
      "x", {.dtype = DType::float32(), .shape = Shape{0, 4096}, .codec = {.id = "blosc-lz4"}});
  for (std::int64_t r = 0; r < shape[0]; r += 1000) {
    const std::int64_t n = std::min<std::int64_t>(1000, shape[0] - r);
    ds->append(ArrayView(data.data() + r * 4096 * 4, DType::float32(), Shape{n, 4096}));
  }
  EXPECT_EQ(ds->chunks(), (std::vector<std::int64_t>{64, 4096}));  // ~1 MiB, whole rows
  auto reader = Store::open(dir / "big.zarr", "r");
  auto back = reader->root()->open_dataset("x");
  EXPECT_TRUE(same(back->read(), data));
  EXPECT_LT(back->storage_info().stored_bytes, back->storage_info().logical_bytes);
  std::vector<std::int64_t> rows(2000);
  for (auto& r : rows)
    r = static_cast<std::int64_t>(rng() % 6400);
  const Array got = back->gather(rows);
  for (std::size_t i = 0; i < rows.size(); i += 97) {
    ASSERT_EQ(std::memcmp(got.data() + i * 4096 * 4, data.data() + rows[i] * 4096 * 4, 4096 * 4),
              0);
  }
}

// ---- bad input ----------------------------------------------------------------

class ZarrBadInput : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = Store::open(file_, "w");
    for (const char* id : {"none", "zstd", "blosc-lz4"}) {
      auto ds = store->root()->create_dataset(
          id, {.dtype = DType::int64(), .shape = Shape{8}, .chunks = {4}, .codec = {.id = id}});
      ds->write(Selection(), iota(DType::int64(), Shape{8}));
    }
  }

  // The error of reading array `name` (opening it first), with its message.
  ErrorCode read_error(const std::string& name, std::string& why) {
    return error_of([&] { Store::open(file_, "r+")->root()->open_dataset(name)->read(); }, &why);
  }

  TempDir dir_;
  fs::path file_ = dir_ / "bad.zarr";
};

TEST_F(ZarrBadInput, MetadataThatDoesNotParseIsCorruptNamingTheFile) {
  std::string why;
  for (const char* text : {"{\"zarr_format\": 2, ", "[1, 2]", "",
                           R"({"zarr_format": 2, "shape": [8], "chunks": [4], "dtype": "<i8",
                               "compressor": null, "fill_value": 0, "order": "C"})"}) {
    spit(file_ / "none" / ".zarray", text);
    ASSERT_EQ(read_error("none", why), ErrorCode::corrupt) << text;
    EXPECT_NE(why.find(".zarray"), std::string::npos) << why;
    EXPECT_NE(why.find("/none"), std::string::npos) << why;  // the node's path
  }
}

TEST_F(ZarrBadInput, WrongSizedUncompressedChunkIsCorruptAndNothingChanges) {
  spit(file_ / "none" / "1", std::string(31, 'x'));
  const auto damaged = snapshot(file_);
  std::string why;
  EXPECT_EQ(read_error("none", why), ErrorCode::corrupt);
  EXPECT_NE(why.find("none/1"), std::string::npos) << why;
  EXPECT_NE(why.find("31 bytes"), std::string::npos) << why;
  auto store = Store::open(file_, "r+");
  auto ds = store->root()->open_dataset("none");
  EXPECT_EQ(ints(ds->read(Selection::parse("0:4"))), (std::vector<std::int64_t>{0, 1, 2, 3}));
  // A write that must read the damaged chunk fails before writing anything.
  EXPECT_EQ(error_of([&] {
              ds->write(Selection::parse("5"),
                        Array::from_values<std::int64_t>(std::vector<std::int64_t>{1}));
            }),
            ErrorCode::corrupt);
  EXPECT_EQ(snapshot(file_), damaged);
}

TEST_F(ZarrBadInput, TruncatedOrGarbledCompressedChunksAreCorrupt) {
  for (const char* name : {"zstd", "blosc-lz4"}) {
    const std::string good = slurp(file_ / name / "0");
    for (const std::string& bad :
         {good.substr(0, good.size() / 2), std::string(good.size(), '\x55'), std::string()}) {
      spit(file_ / name / "0", bad);
      const auto damaged = snapshot(file_);
      std::string why;
      EXPECT_EQ(read_error(name, why), ErrorCode::corrupt) << name;
      EXPECT_NE(why.find(std::string(name) + "/0"), std::string::npos) << why;
      EXPECT_EQ(snapshot(file_), damaged);
    }
    // A chunk that decodes to the wrong size (another array's) is corrupt too.
    const auto codec =
        codec::make_codec({.id = name == std::string("zstd") ? "zstd" : "blosc-lz4"});
    const std::vector<std::byte> eight(8 * 8, std::byte{1});
    const auto encoded = codec->encode(eight);
    spit(file_ / name / "0",
         std::string(reinterpret_cast<const char*>(encoded.data()), encoded.size()));
    std::string why;
    EXPECT_EQ(read_error(name, why), ErrorCode::corrupt) << name;
    EXPECT_NE(why.find(std::string(name) + "/0"), std::string::npos) << why;
  }
}

TEST_F(ZarrBadInput, UnknownCompressorsDtypesAndFiltersAreUnsupported) {
  const nlohmann::json original = zarray_of(file_ / "zstd");
  auto edit = [&](const std::function<void(nlohmann::json&)>& change) {
    nlohmann::json meta = original;
    change(meta);
    spit(file_ / "zstd" / ".zarray", meta.dump());
  };
  std::string why;
  edit([](auto& m) { m["compressor"] = {{"id", "snappy-9000"}}; });
  EXPECT_EQ(read_error("zstd", why), ErrorCode::unsupported);
  EXPECT_NE(why.find("snappy-9000"), std::string::npos) << why;
  edit([](auto& m) {
    m["filters"] = nlohmann::json::array({{{"id", "delta"}, {"dtype", "<i8"}}});
  });
  EXPECT_EQ(read_error("zstd", why), ErrorCode::unsupported);
  EXPECT_NE(why.find("delta"), std::string::npos) << why;
  edit([](auto& m) { m["dtype"] = "<U4"; });
  EXPECT_EQ(read_error("zstd", why), ErrorCode::unsupported);
  edit([](auto& m) { m["dtype"] = nlohmann::json::array({{"a", "<i4"}}); });
  EXPECT_EQ(read_error("zstd", why), ErrorCode::unsupported);
  edit([](auto& m) { m["zarr_format"] = 3; });
  EXPECT_EQ(read_error("zstd", why), ErrorCode::unsupported);
  // Wrong types and values are corrupt, naming the value.
  for (const auto& [key, value] : std::vector<std::pair<std::string, nlohmann::json>>{
           {"shape", "8"},
           {"shape", {-1}},
           {"chunks", {0}},
           {"chunks", {4, 4}},
           {"dtype", "<q9"},
           {"order", "K"},
           {"fill_value", "zero"},
           {"compressor", 5},
           {"compressor", {{"id", "zstd"}, {"level", "high"}}},
           {"dimension_separator", "-"},
           {"zarr_format", "2"}}) {
    edit([&](auto& m) { m[key] = value; });
    EXPECT_EQ(read_error("zstd", why), ErrorCode::corrupt) << key << " " << value.dump() << why;
    EXPECT_NE(why.find(value.dump().substr(0, 3)), std::string::npos) << why;
  }
  edit([&](auto& m) { m = original; });
  EXPECT_EQ(ints(Store::open(file_, "r")->root()->open_dataset("zstd")->read()),
            ints(iota(DType::int64(), Shape{8})));
}

TEST_F(ZarrBadInput, AttributesThatDoNotParseAreCorrupt) {
  spit(file_ / ".zattrs", "{\"a\": ");
  std::string why;
  EXPECT_EQ(error_of([&] { Store::open(file_, "r")->root()->attrs().names(); }, &why),
            ErrorCode::corrupt);
  EXPECT_NE(why.find(".zattrs"), std::string::npos) << why;
  // Python's json writes NaN and Infinity bare; they read as numbers.
  spit(file_ / ".zattrs", R"({"a": NaN, "b": [Infinity, -Infinity], "c": "NaN"})");
  auto store = Store::open(file_, "r+");
  auto root = store->root();
  EXPECT_TRUE(std::isnan(root->attrs().get_json("a").get<double>()));
  EXPECT_EQ(root->attrs().get_json("b")[1].get<double>(), -INFINITY);
  EXPECT_EQ(root->attrs().get_json("c"), "NaN");
  root->attrs().set("d", nlohmann::json(1));
  EXPECT_NE(slurp(file_ / ".zattrs").find("\"a\": NaN"), std::string::npos);
  spit(file_ / ".zgroup", "not json");
  EXPECT_EQ(error_of([&] { Store::open(file_, "r"); }), ErrorCode::corrupt);
}

TEST(ZarrMetadata, ParsesWhatZarrPythonWritesAndChecksEveryField) {
  const std::string text = R"({
    "chunks": [2, 2], "compressor": {"blocksize": 0, "clevel": 5, "cname": "lz4", "id": "blosc",
    "shuffle": 1}, "dtype": ">f8", "fill_value": "-Infinity", "filters": null, "order": "C",
    "shape": [5, 3], "zarr_format": 2, "dimension_separator": "/"})";
  const auto meta = zarr::parse_array_metadata(text, "t/.zarray");
  EXPECT_EQ(meta.dtype, DType::float64().big_endian());
  EXPECT_EQ(meta.shape, (Shape{5, 3}));
  EXPECT_EQ(meta.codec.id, "blosc-lz4");
  EXPECT_EQ(meta.codec.typesize, 8);
  EXPECT_EQ(meta.separator, '/');
  EXPECT_EQ(meta.grid(), (std::vector<std::int64_t>{3, 2}));
  EXPECT_EQ(zarr::fill_to_zarr(meta.dtype, meta.fill), "-Infinity");
  // Written back with only the shape changed.
  auto grown = meta;
  grown.shape = Shape{7, 3};
  const auto again = zarr::parse_array_metadata(zarr::format_array_metadata(grown), "t");
  EXPECT_EQ(again.shape, (Shape{7, 3}));
  EXPECT_EQ(again.document["compressor"], meta.document["compressor"]);
  // Chunks too large to allocate are refused before anything is.
  EXPECT_EQ(error_of([&] {
              zarr::parse_array_metadata(R"({"zarr_format": 2, "shape": [1], "chunks":
                [4611686018427387904], "dtype": "<f8", "compressor": null, "fill_value": 0,
                "order": "C", "filters": null})",
                                         "t");
            }),
            ErrorCode::unsupported);
  EXPECT_EQ(zarr::chunk_key(std::vector<std::int64_t>{1, 0, 12}, '.'), "1.0.12");
  EXPECT_EQ(zarr::parse_chunk_key("1/0/12", 3, '/'), (std::vector<std::int64_t>{1, 0, 12}));
  EXPECT_EQ(zarr::parse_chunk_key("1.0", 3, '.'), std::nullopt);
  EXPECT_EQ(zarr::parse_chunk_key("1.0.x", 3, '.'), std::nullopt);
  EXPECT_EQ(zarr::parse_chunk_key("1.0.2.", 3, '.'), std::nullopt);
  EXPECT_EQ(zarr::parse_chunk_key("0", 0, '.'), std::vector<std::int64_t>{});
  EXPECT_EQ(zarr::fill_from_zarr(DType::string(3), "YWI="),
            (std::vector<std::byte>{std::byte{'a'}, std::byte{'b'}, std::byte{0}}));
  EXPECT_EQ(error_of([&] { zarr::fill_from_zarr(DType::string(3), "YWJjZA=="); }),
            ErrorCode::corrupt);  // 4 bytes for S3
  EXPECT_EQ(error_of([&] { zarr::fill_from_zarr(DType::uint8(), 256); }), ErrorCode::corrupt);
  EXPECT_EQ(error_of([&] { zarr::fill_from_zarr(DType::int8(), -129); }), ErrorCode::corrupt);
}

}  // namespace
}  // namespace larder::store
