// The conformance suite: one set of tests every store driver passes (see
// drivers.h for the list and each driver's capabilities). Groups, attributes,
// dense arrays of every dtype, appends, gathers, resizes and bad input; each
// refused call is checked for its error code and for leaving what is stored
// as it was.
#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <thread>

#include "array_helpers.h"
#include "error_of.h"
#include "larder/core/error.h"
#include "larder/store/store.h"
#include "store/drivers.h"
#include "store/random_selection.h"
#include "store/samples.h"
#include "store/temp_dir.h"

namespace larder::store {
namespace {

using larder::testing::array_of;
using larder::testing::Capabilities;
using larder::testing::Driver;
using larder::testing::error_from;
using larder::testing::error_of;
using larder::testing::has_repeats;
using larder::testing::random_selection;
using larder::testing::same;
using larder::testing::sample;
using larder::testing::TempDir;
using larder::testing::values_of;

std::vector<std::int64_t> ints(const Array& a) {
  const auto v = a.values<std::int64_t>();
  return {v.begin(), v.end()};
}

Array int64s(std::vector<std::int64_t> values, Shape shape) {
  Array a = Array::from_values<std::int64_t>(values);
  return std::move(a).reshaped(std::move(shape));
}

std::vector<std::string> names_of(const std::vector<MemberInfo>& members) {
  std::vector<std::string> out;
  for (const auto& m : members)
    out.push_back(m.name);
  return out;
}

class Conformance : public ::testing::TestWithParam<Driver> {
 protected:
  void SetUp() override {
    path_ = GetParam().where(dir_.path());
    store_ = Store::open(path_, "w", GetParam().options);
    root_ = store_->root();
  }

  const Capabilities& can() const { return GetParam().can; }

  // Closes the store and opens it again (persistent drivers only).
  void reopen(std::string_view mode = "r") {
    ASSERT_TRUE(can().persistent);
    root_.reset();
    store_->close();
    store_ = Store::open(path_, mode, GetParam().options);
    root_ = store_->root();
  }

  // A dataset holding `values`.
  std::shared_ptr<Dataset> stored(const std::string& path, const Array& values,
                                  DatasetOptions options = {}) {
    options.dtype = values.dtype();
    options.shape = values.shape();
    auto ds = root_->create_dataset(path, options);
    ds->write(Selection(), values);
    return ds;
  }

  TempDir dir_;
  std::filesystem::path path_;
  std::unique_ptr<Store> store_;
  std::shared_ptr<Group> root_;
};

// ---- arrays larger than a fill piece ----------------------------------------------

// Regression: the mmap driver wrote the fill of a new fixed-size array (and of
// rows a resize adds) piece after piece at one offset, so an array of more
// than 4 MiB was a short file that failed to open again.
TEST_P(Conformance, ArraysOfManyMegabytesAreFilledWrittenInPartsAndReopened) {
  constexpr std::int64_t kRows = 600'000;  // x 4 float32: 9.6 MB
  auto ds = root_->create_dataset("big", {.dtype = DType::float32(), .shape = Shape{kRows, 4}});
  constexpr std::int64_t kPart = 150'000;
  for (std::int64_t begin = 0; begin < kRows; begin += kPart) {
    Array part = Array::empty(DType::float32(), Shape{kPart, 4});
    for (auto& v : part.values<float>())
      v = static_cast<float>(begin);
    ds->write(Selection{AxisSelection::slice(begin, begin + kPart)}, part);
  }
  auto grown = root_->create_dataset(
      "grown", {.dtype = DType::int32(), .shape = Shape{10}, .extendable = true, .fill_value = 7});
  grown->resize(Shape{3'000'000});  // 12 MB of fill
  if (can().persistent) reopen();
  const Array back = root_->open_dataset("big")->read();
  const auto values = back.values<float>();
  for (std::int64_t row = 0; row < kRows; row += 1237) {
    ASSERT_EQ(values[static_cast<std::size_t>(row * 4)], static_cast<float>(row / kPart * kPart))
        << "row " << row;
  }
  const Array tail =
      root_->open_dataset("grown")->read(Selection{AxisSelection::slice(2'999'990, std::nullopt)});
  for (auto v : tail.values<std::int32_t>())
    EXPECT_EQ(v, 7);
}

// HDF5's shuffle filter before a codec (h5py's shuffle=True): HDF5 stores
// keep it and read the values back; the other drivers refuse it naming the
// array, and create nothing.
TEST_P(Conformance, AShuffleFilterIsHdf5sAndRefusedElsewhere) {
  std::vector<float> v(500);
  for (std::size_t i = 0; i < v.size(); ++i)
    v[i] = static_cast<float>(i) / 7;
  const Array data = array_of(v, Shape{500});
  store::DatasetOptions options{
      .dtype = DType::float32(),
      .shape = Shape{500},
      .chunks = {100},
      .codec = codec::CodecSpec{.id = can().compression ? "zstd" : "none"},
      .shuffle = true};
  if (!can().shuffle_filter) {
    std::string why;
    EXPECT_EQ(error_of([&] { root_->create_dataset_from("s", options, data); }, &why),
              ErrorCode::unsupported);
    EXPECT_NE(why.find("/s"), std::string::npos) << why;
    EXPECT_FALSE(root_->contains("s"));
    return;
  }
  root_->create_dataset_from("s", options, data);
  if (can().persistent) reopen();
  const auto ds = root_->open_dataset("s");
  EXPECT_EQ(ds->storage_info().filters.substr(0, 13), "shuffle+zstd:");
  EXPECT_EQ(values_of<float>(ds->read()), v);
}

// create_dataset_from creates and fills in one call (one flush in HDF5):
// the contents, chunked or not, survive a reopen; data of another shape is
// refused and nothing is created.
TEST_P(Conformance, CreateDatasetFromWritesItsDataAndRefusesAnotherShape) {
  std::vector<double> v(3000);
  for (std::size_t i = 0; i < v.size(); ++i)
    v[i] = static_cast<double>(i) * 0.5;
  const Array data = array_of(v, Shape{1000, 3});
  root_->create_dataset_from("plain", {.dtype = DType::float64(), .shape = Shape{1000, 3}}, data);
  std::vector<float> f(v.begin(), v.end());
  root_->create_dataset_from(
      "g/chunked", {.dtype = DType::float32(), .shape = Shape{1000, 3}, .chunks = {128, 3}},
      array_of(f, Shape{1000, 3}));
  root_->create_dataset_from("scalar", {.dtype = DType::int16(), .shape = Shape{}},
                             array_of(std::vector<std::int16_t>{-4}, Shape{}));
  std::string why;
  EXPECT_EQ(error_of(
                [&] {
                  root_->create_dataset_from(
                      "wrong", {.dtype = DType::float64(), .shape = Shape{999, 3}}, data);
                },
                &why),
            ErrorCode::invalid_argument);
  EXPECT_NE(why.find("(1000, 3)"), std::string::npos) << why;
  EXPECT_NE(why.find("wrong"), std::string::npos) << why;
  EXPECT_FALSE(root_->contains("wrong"));
  if (can().persistent) reopen();
  EXPECT_EQ(values_of<double>(root_->open_dataset("plain")->read()), v);
  const Array chunked = root_->open_dataset("g/chunked")->read();
  EXPECT_EQ(chunked.dtype(), DType::float32());
  EXPECT_EQ(chunked.values<float>()[2999], 1499.5f);
  EXPECT_EQ(values_of<std::int16_t>(root_->open_dataset("scalar")->read()),
            std::vector<std::int16_t>{-4});
}

// Regression: the HDF5 driver hands out one Dataset object per array, so
// threads that each opened it shared its chunk cache without a lock and
// corrupted it once the cache evicted chunks.
TEST_P(Conformance, ThreadsThatEachOpenAnArrayGatherTheirOwnRows) {
  constexpr std::int64_t kRows = 300'000;
  Array values = Array::empty(DType::float32(), Shape{kRows, 16});
  auto v = values.values<float>();
  for (std::size_t i = 0; i < v.size(); ++i)
    v[i] = static_cast<float>(i);
  DatasetOptions options;
  options.chunks = {256, 16};  // many chunks: their index fills while threads read
  if (can().compression) options.codec = {.id = "blosc-lz4", .level = 5};
  stored("x", values, options);
  if (can().persistent) {
    root_.reset();
    store_->close();
    auto store_options = GetParam().options;
    store_options.chunk_cache_bytes = std::size_t{8} << 20;  // half a gather: constant eviction
    store_ = Store::open(path_, "r", store_options);
    root_ = store_->root();
  }
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      auto ds = root_->open_dataset("x");
      std::mt19937_64 random(static_cast<std::uint64_t>(t));
      std::vector<std::int64_t> ids(512);
      for (int round = 0; round < 40; ++round) {
        for (auto& id : ids)
          id = static_cast<std::int64_t>(random() % kRows);
        const Array got = ds->gather(ids);
        const auto g = got.values<float>();
        for (std::size_t i = 0; i < ids.size(); ++i) {
          if (g[i * 16] != static_cast<float>(ids[i] * 16)) ++wrong;
        }
      }
    });
  }
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(wrong.load(), 0);
}

// ---- groups -------------------------------------------------------------------

TEST_P(Conformance, NestedGroupsAreMadeWithTheirParents) {
  auto c = root_->create_group("a/b/c");
  EXPECT_EQ(c->path(), "/a/b/c");
  EXPECT_EQ(c->name(), "c");
  EXPECT_TRUE(root_->contains("a"));
  EXPECT_TRUE(root_->contains("a/b"));
  EXPECT_EQ(root_->open_group("a/b")->path(), "/a/b");
  auto a = root_->open_group("a");
  EXPECT_EQ(a->create_group("x/y")->path(), "/a/x/y");  // relative to `a`
  EXPECT_EQ(c->create_group("/top")->path(), "/top");   // absolute: from the root
  EXPECT_TRUE(root_->contains("top"));
  EXPECT_EQ(root_->open("/")->path(), "/");
  EXPECT_EQ(c->open("")->path(), "/a/b/c");
}

TEST_P(Conformance, RequireGroupOpensWhatExistsAndMakesWhatIsMissing) {
  auto made = root_->require_group("r/s");
  EXPECT_EQ(made->path(), "/r/s");
  made->attrs().set("mark", 1);
  EXPECT_EQ(root_->require_group("r/s")->attrs().get_json("mark"), 1);  // the same group
  EXPECT_EQ(root_->require_group("/r")->path(), "/r");
  root_->create_dataset("r/d", {.dtype = DType::int32(), .shape = Shape{2}});
  EXPECT_EQ(error_of([&] { root_->require_group("r/d"); }), ErrorCode::type_mismatch);
  EXPECT_EQ(error_of([&] { root_->require_group("r/d/x"); }), ErrorCode::type_mismatch);
  EXPECT_EQ(names_of(root_->open_group("r")->members()), (std::vector<std::string>{"d", "s"}));
}

TEST_P(Conformance, MembersComeInNameOrderAndVisitGoesDepthFirst) {
  root_->create_group("b");
  root_->create_group("a/z");
  root_->create_dataset("c", {.dtype = DType::int8(), .shape = Shape{1}});
  root_->create_group("B");
  root_->create_dataset("a/y", {.dtype = DType::int8(), .shape = Shape{1}});
  root_->create_group("0");
  const auto members = root_->members();
  EXPECT_EQ(names_of(members), (std::vector<std::string>{"0", "B", "a", "b", "c"}));
  EXPECT_EQ(members[2].kind, NodeKind::group);
  EXPECT_EQ(members[4].kind, NodeKind::dataset);
  std::vector<std::string> seen;
  std::vector<NodeKind> kinds;
  root_->visit([&](const std::string& path, NodeKind kind) {
    seen.push_back(path);
    kinds.push_back(kind);
  });
  EXPECT_EQ(seen, (std::vector<std::string>{"0", "B", "a", "a/y", "a/z", "b", "c"}));
  EXPECT_EQ(kinds[3], NodeKind::dataset);
  EXPECT_TRUE(root_->open_group("a/z")->members().empty());
}

TEST_P(Conformance, ContainsFollowsRelativeAndAbsolutePaths) {
  root_->create_dataset("a/b/x", {.dtype = DType::int8(), .shape = Shape{1}});
  EXPECT_TRUE(root_->contains("a/b/x"));
  EXPECT_TRUE(root_->contains("/a/b"));
  EXPECT_TRUE(root_->contains("a//b/"));
  EXPECT_FALSE(root_->contains("a/x"));
  EXPECT_FALSE(root_->contains("a/b/x/y"));  // below a dataset
  EXPECT_FALSE(root_->contains("zz/x"));
  auto b = root_->open_group("a/b");
  EXPECT_TRUE(b->contains("x"));
  EXPECT_TRUE(b->contains("/a"));
  EXPECT_FALSE(b->contains("b"));
}

TEST_P(Conformance, RemoveDeletesAGroupWithEverythingBelowIt) {
  root_->create_group("keep");
  stored("keep/x", int64s({1, 2}, Shape{2}));
  root_->create_group("drop/inner/deep")->attrs().set("n", 1);
  stored("drop/d", int64s({3, 4}, Shape{2}));
  root_->remove("drop");
  EXPECT_FALSE(root_->contains("drop"));
  EXPECT_FALSE(root_->contains("drop/d"));
  EXPECT_EQ(names_of(root_->members()), (std::vector<std::string>{"keep"}));
  EXPECT_EQ(error_of([&] { root_->remove("drop"); }), ErrorCode::not_found);
  EXPECT_TRUE(root_->create_group("drop")->members().empty());  // made again, empty
  root_->open_group("drop")->remove("/keep/x");                 // absolute from a subgroup
  EXPECT_TRUE(root_->open_group("keep")->members().empty());
  EXPECT_EQ(error_of([&] { root_->remove(""); }), ErrorCode::invalid_argument);
  EXPECT_EQ(error_of([&] { root_->remove("/"); }), ErrorCode::invalid_argument);
  EXPECT_EQ(names_of(root_->members()), (std::vector<std::string>{"drop", "keep"}));
}

TEST_P(Conformance, MissingPathsAreNotFoundAndNameWhatExists) {
  root_->create_group("runs/alpha");
  root_->create_group("runs/beta");
  const Error e = error_from([&] { root_->open_group("runs/gamma"); });
  EXPECT_EQ(e.code(), ErrorCode::not_found);
  EXPECT_EQ(e.path(), "/runs/gamma");
  EXPECT_EQ(e.file(), path_.string());
  EXPECT_NE(std::string(e.what()).find("alpha, beta"), std::string::npos) << e.what();
  const Error deeper = error_from([&] { root_->open("nope/deeper"); });
  EXPECT_EQ(deeper.code(), ErrorCode::not_found);
  EXPECT_EQ(deeper.path(), "/nope");
  EXPECT_NE(std::string(deeper.what()).find("runs"), std::string::npos) << deeper.what();
  EXPECT_EQ(error_of([&] { root_->remove("runs/gamma"); }), ErrorCode::not_found);
  EXPECT_EQ(error_of([&] { root_->open_dataset("runs"); }), ErrorCode::type_mismatch);
  stored("runs/x", int64s({1}, Shape{1}));
  EXPECT_EQ(error_of([&] { root_->open_group("runs/x"); }), ErrorCode::type_mismatch);
  EXPECT_EQ(names_of(root_->open_group("runs")->members()),
            (std::vector<std::string>{"alpha", "beta", "x"}));
}

TEST_P(Conformance, DuplicatePathsAreRefusedAndLeaveTheOriginal) {
  root_->create_group("g")->attrs().set("kept", true);
  const Array values = int64s({1, 2, 3}, Shape{3});
  auto d = stored("d", values);
  const DatasetOptions other{.dtype = DType::float32(), .shape = Shape{5}};
  EXPECT_EQ(error_of([&] { root_->create_group("g"); }), ErrorCode::invalid_argument);
  EXPECT_EQ(error_of([&] { root_->create_dataset("g", other); }), ErrorCode::invalid_argument);
  EXPECT_EQ(error_of([&] { root_->create_group("d"); }), ErrorCode::invalid_argument);
  EXPECT_EQ(error_of([&] { root_->create_dataset("/d", other); }), ErrorCode::invalid_argument);
  EXPECT_EQ(error_of([&] { root_->create_group("d/x"); }), ErrorCode::type_mismatch);
  EXPECT_EQ(error_of([&] { root_->create_dataset("d/x", other); }), ErrorCode::type_mismatch);
  EXPECT_EQ(root_->open_group("g")->attrs().get_json("kept"), true);
  auto again = root_->open_dataset("d");
  EXPECT_EQ(again->dtype(), DType::int64());
  EXPECT_TRUE(same(again->read(), values));
  EXPECT_EQ(names_of(root_->members()), (std::vector<std::string>{"d", "g"}));
}

TEST_P(Conformance, DotSegmentsAreRefusedEverywhere) {
  root_->create_group("a");
  const DatasetOptions options{.dtype = DType::int8(), .shape = Shape{1}};
  for (const char* path : {".", "..", "a/../b", "./a", "a/.", "a/./b"}) {
    SCOPED_TRACE(path);
    EXPECT_EQ(error_of([&] { root_->open(path); }), ErrorCode::invalid_argument);
    EXPECT_EQ(error_of([&] { root_->create_group(path); }), ErrorCode::invalid_argument);
    EXPECT_EQ(error_of([&] { root_->create_dataset(path, options); }), ErrorCode::invalid_argument);
    EXPECT_EQ(error_of([&] { root_->require_group(path); }), ErrorCode::invalid_argument);
    EXPECT_EQ(error_of([&] { root_->contains(path); }), ErrorCode::invalid_argument);
    EXPECT_EQ(error_of([&] { root_->remove(path); }), ErrorCode::invalid_argument);
  }
  EXPECT_EQ(names_of(root_->members()), (std::vector<std::string>{"a"}));
  EXPECT_TRUE(root_->open_group("a")->members().empty());
}

TEST_P(Conformance, AClosedStoreRefusesItsNodes) {
  auto group = root_->create_group("g");
  auto& attrs = group->attrs();
  auto ds = stored("g/x", int64s({1, 2}, Shape{2}));
  store_->close();
  EXPECT_FALSE(store_->is_open());
  EXPECT_EQ(error_of([&] { store_->root(); }), ErrorCode::invalid_argument);
  EXPECT_EQ(error_of([&] { group->members(); }), ErrorCode::invalid_argument);
  EXPECT_EQ(error_of([&] { group->create_group("h"); }), ErrorCode::invalid_argument);
  EXPECT_EQ(error_of([&] { group->open("x"); }), ErrorCode::invalid_argument);
  EXPECT_EQ(error_of([&] { group->contains("x"); }), ErrorCode::invalid_argument);
  EXPECT_EQ(error_of([&] { attrs.names(); }), ErrorCode::invalid_argument);
  EXPECT_EQ(error_of([&] { ds->read(); }), ErrorCode::invalid_argument);
  EXPECT_EQ(error_of([&] {
              ds->write(Selection(), int64s({5, 6}, Shape{2}));
            }),
            ErrorCode::invalid_argument);
  EXPECT_EQ(error_of([&] { ds->shape(); }), ErrorCode::invalid_argument);
  EXPECT_EQ(error_of([&] { ds->dtype(); }), ErrorCode::invalid_argument);
  EXPECT_EQ(error_of([&] { ds->codec(); }), ErrorCode::invalid_argument);
  EXPECT_EQ(error_of([&] { ds->gather(std::vector<std::int64_t>{0}); }),
            ErrorCode::invalid_argument);
  EXPECT_EQ(error_of([&] { ds->attrs(); }), ErrorCode::invalid_argument);
  store_->close();  // a second close is harmless
}

TEST_P(Conformance, ReopeningKeepsTheTree) {
  if (!can().persistent) GTEST_SKIP() << "not persistent";
  root_->create_group("a/b")->attrs().set("k", "v");
  stored("a/x", int64s({4, 5, 6}, Shape{3}));
  root_->create_group("e");
  reopen();
  std::vector<std::string> seen;
  root_->visit([&](const std::string& path, NodeKind) { seen.push_back(path); });
  EXPECT_EQ(seen, (std::vector<std::string>{"a", "a/b", "a/x", "e"}));
  EXPECT_EQ(root_->open_group("a/b")->attrs().get_json("k"), "v");
  EXPECT_EQ(ints(root_->open_dataset("a/x")->read()), (std::vector<std::int64_t>{4, 5, 6}));
}

TEST_P(Conformance, AReadOnlyStoreRefusesEveryWriteAndKeepsItsData) {
  if (!can().persistent) GTEST_SKIP() << "a store of this driver cannot be reopened read-only";
  root_->create_group("g")->attrs().set("a", 1);
  auto made =
      root_->create_dataset("d", {.dtype = DType::int64(), .shape = Shape{0}, .extendable = true});
  made->append(int64s({1, 2, 3}, Shape{3}));
  made.reset();
  reopen("r");
  EXPECT_EQ(store_->mode(), OpenMode::read);
  auto g = root_->open_group("g");
  auto d = root_->open_dataset("d");
  const Array one = int64s({9}, Shape{1});
  const DatasetOptions options{.dtype = DType::int8(), .shape = Shape{1}};
  for (const auto& write : std::vector<std::function<void()>>{
           [&] { root_->create_group("new"); },
           [&] { root_->create_dataset("new", options); },
           [&] { root_->remove("g"); },
           [&] { g->attrs().set("a", 2); },
           [&] { g->attrs().set("b", one); },
           [&] { g->attrs().remove("a"); },
           [&] { d->write(Selection::parse("0"), one); },
           [&] { d->append(one); },
           [&] { d->resize(Shape{1}); },
       }) {
    EXPECT_EQ(error_of(write), ErrorCode::invalid_argument);
  }
  EXPECT_EQ(root_->require_group("g")->path(), "/g");  // what exists opens
  EXPECT_EQ(names_of(root_->members()), (std::vector<std::string>{"d", "g"}));
  EXPECT_EQ(g->attrs().names(), (std::vector<std::string>{"a"}));
  EXPECT_EQ(g->attrs().get_json("a"), 1);
  EXPECT_EQ(ints(d->read()), (std::vector<std::int64_t>{1, 2, 3}));
}

// ---- attributes ---------------------------------------------------------------

TEST_P(Conformance, JsonAttributesRoundTripOnEveryNode) {
  const nlohmann::json values = {
      {"int", 42},
      {"negative", -7},
      {"big", std::numeric_limits<std::uint64_t>::max()},
      {"float", 2.5},
      {"true", true},
      {"false", false},
      {"text", "larder"},
      {"unicode", "µm² ✓"},
      {"empty_text", ""},
      {"strings", {"a", "bc"}},
      {"ints", {1, 2, 3}},
      {"floats", {0.5, -1.25}},
      {"nested", {{"seed", 7}, {"dims", {"x", "y"}}, {"deep", {{"a", {1, {2, 3}}}}}}},
      {"mixed", {1, "a", true, nullptr}},
      {"empty_list", nlohmann::json::array()},
      {"empty_object", nlohmann::json::object()},
      {"null", nullptr},
  };
  root_->create_group("g");
  stored("d", int64s({1}, Shape{1}));
  const auto check = [&](const std::string& where) {
    SCOPED_TRACE(where);
    for (const char* path : {"/", "g", "d"}) {
      auto node = root_->open(path);
      std::vector<std::string> names;
      for (const auto& [name, value] : values.items()) {
        names.push_back(name);
        EXPECT_TRUE(node->attrs().contains(name)) << path << "@" << name;
        EXPECT_EQ(node->attrs().get_json(name), value) << path << "@" << name;
      }
      std::sort(names.begin(), names.end());
      EXPECT_EQ(node->attrs().names(), names) << path;
      EXPECT_FALSE(node->attrs().contains("missing"));
    }
  };
  for (const char* path : {"/", "g", "d"}) {
    auto node = root_->open(path);
    for (const auto& [name, value] : values.items())
      node->attrs().set(name, value);
  }
  check("written");
  if (can().persistent) {
    reopen();
    check("reopened");
  }
}

TEST_P(Conformance, ArrayAttributesKeepTheirDtypeAndShape) {
  if (!can().array_attributes) GTEST_SKIP() << "no array attributes";
  std::vector<Array> arrays;
  for (const DType& dtype :
       larder::testing::sample_dtypes(can().float16, can().complex, can().big_endian, false)) {
    arrays.push_back(sample(dtype, Shape{2, 3}, 1));
  }
  arrays.push_back(sample(DType::int32(), Shape{4}));
  arrays.push_back(sample(DType::float64(), Shape{2, 1, 2}));
  auto ds = stored("d", int64s({1}, Shape{1}));
  for (std::size_t i = 0; i < arrays.size(); ++i) {
    root_->attrs().set("a" + std::to_string(i), arrays[i]);
    ds->attrs().set("a" + std::to_string(i), arrays[i]);
  }
  const auto check = [&](Attributes& attrs) {
    for (std::size_t i = 0; i < arrays.size(); ++i) {
      const AttributeValue value = attrs.get("a" + std::to_string(i));
      ASSERT_TRUE(std::holds_alternative<Array>(value)) << arrays[i].dtype().name();
      EXPECT_TRUE(same(std::get<Array>(value), arrays[i])) << arrays[i].dtype().name();
    }
  };
  check(root_->attrs());
  check(ds->attrs());
  EXPECT_EQ(root_->attrs().get_json("a" + std::to_string(arrays.size() - 1)),
            nlohmann::json::parse("[[[0.0, 0.25]], [[0.5, 0.75]]]"));
  if (can().persistent) {
    ds.reset();
    reopen();
    check(root_->attrs());
    check(root_->open_dataset("d")->attrs());
  }
}

TEST_P(Conformance, AttributesAreReplacedAndRemoved) {
  auto ds = stored("d", int64s({1}, Shape{1}));
  for (Attributes* attrs : {&root_->attrs(), &ds->attrs()}) {
    attrs->set("other", 1);
    attrs->set("x", nlohmann::json{{"a", 1}});
    attrs->set("x", 3);
    EXPECT_EQ(attrs->get_json("x"), 3);
    if (can().array_attributes) {
      attrs->set("x", int64s({1, 2}, Shape{2}));
      EXPECT_EQ(attrs->get_json("x"), nlohmann::json({1, 2}));
    }
    attrs->set("x", "text");
    EXPECT_EQ(attrs->get_json("x"), "text");
    attrs->remove("x");
    EXPECT_FALSE(attrs->contains("x"));
    EXPECT_EQ(attrs->names(), (std::vector<std::string>{"other"}));
    const Error e = error_from([&] { attrs->get("x"); });
    EXPECT_EQ(e.code(), ErrorCode::not_found);
    EXPECT_NE(std::string(e.what()).find("other"), std::string::npos) << e.what();
    EXPECT_EQ(error_of([&] { attrs->remove("x"); }), ErrorCode::not_found);
    EXPECT_EQ(attrs->get_json("other"), 1);
  }
}

// ---- dense arrays ---------------------------------------------------------------

TEST_P(Conformance, EveryDtypeRoundTrips) {
  const auto dtypes = larder::testing::sample_dtypes(can().float16, can().complex, can().big_endian,
                                                     can().fixed_strings);
  const Selection part = Selection::parse("1:5:2, ::-1");
  for (const DType& dtype : dtypes) {
    const Array values = sample(dtype, Shape{6, 4}, 3);
    stored("d_" + dtype.name() + (dtype.is_native() ? "" : "_be"), values);
  }
  const auto check = [&] {
    for (const DType& dtype : dtypes) {
      SCOPED_TRACE(dtype.numpy_str());
      auto ds = root_->open_dataset("d_" + dtype.name() + (dtype.is_native() ? "" : "_be"));
      const Array values = sample(dtype, Shape{6, 4}, 3);
      EXPECT_EQ(ds->dtype(), dtype);
      EXPECT_EQ(ds->shape(), (Shape{6, 4}));
      EXPECT_TRUE(same(ds->read(), values));
      EXPECT_TRUE(same(ds->read(part), take(values, part)));
    }
  };
  check();
  if (can().persistent) {
    reopen();
    check();
  }
}

TEST_P(Conformance, ValuesInEitherByteOrderAreWrittenAsTheirValues) {
  if (!can().big_endian) GTEST_SKIP() << "no big-endian dtypes";
  for (const char* stored_as : {"<i4", ">i4"}) {
    SCOPED_TRACE(stored_as);
    auto ds = root_->create_dataset(std::string("x") + stored_as[0],
                                    {.dtype = DType::from_string(stored_as), .shape = Shape{6}});
    const Array big = sample(DType::from_string(">i4"), Shape{6});
    const Array little = sample(DType::int32(), Shape{6}, 1);
    ds->write(Selection(), big);
    EXPECT_TRUE(same(ds->read(), big));
    const Array whole = little.clone();
    ds->write(Selection(), whole);  // converted on the way, never in the caller's memory
    EXPECT_TRUE(same(whole, little));
    EXPECT_TRUE(same(ds->read(), little));
    ds->write(Selection(), big);
    ds->write(Selection::parse("::2"), take(little, Selection::parse("::2")));
    Array want = larder::testing::native(big);
    put(want.mutable_view(), Selection::parse("::2"), take(little, Selection::parse("::2")));
    EXPECT_TRUE(same(ds->read(), want));
    ds->write(Selection::parse("1"), sample(DType::from_string(">i4"), Shape{}, 40));  // one value
    EXPECT_TRUE(same(ds->read(Selection::parse("1")), sample(DType::int32(), Shape{}, 40)));

    auto rows = root_->create_dataset(
        std::string("e") + stored_as[0],
        {.dtype = DType::from_string(stored_as), .shape = Shape{0}, .extendable = true});
    rows->append(big);
    rows->append(little);
    rows->append(sample(DType::from_string(">i4"), Shape{}, 7));
    const Array appended = rows->read();
    EXPECT_TRUE(same(take(appended, Selection::parse(":6")), big));
    EXPECT_TRUE(same(take(appended, Selection::parse("6:12")), little));
    EXPECT_TRUE(same(take(appended, Selection::parse("12")), sample(DType::int32(), Shape{}, 7)));
  }
}

TEST_P(Conformance, SelectionsReadWhatNumpyWould) {
  const Shape shape{7, 5, 4};
  const Array values = sample(DType::int32(), shape);
  auto ds = stored("x", values);
  std::vector<Selection> selections;
  for (const char* text :
       {"...", ":", "3", "-1", "2:6", "::-1", "6:1:-2", "::3, ::-2", "1, 2, 3", "[4, 0, 4, 2]",
        "[-1, 0], :, [1, 1]", "..., 1", "1, ..., ::2", "5:2", "-100:100"}) {
    selections.push_back(Selection::parse(text));
  }
  selections.push_back(Selection{AxisSelection::indices({})});
  selections.push_back(Selection{AxisSelection::mask({true, false, false, true, true, false, true}),
                                 AxisSelection::ellipsis(), AxisSelection::index(-2)});
  std::mt19937_64 rng(3);
  for (int i = 0; i < 200; ++i)
    selections.push_back(random_selection(rng, shape));
  for (const Selection& sel : selections)
    ASSERT_TRUE(same(ds->read(sel), take(values, sel))) << sel.to_string();
}

TEST_P(Conformance, PartialWritesChangeOnlyWhatTheySelect) {
  const Shape shape{9, 6};
  auto ds = root_->create_dataset("x", {.dtype = DType::int64(), .shape = shape, .fill_value = -1});
  Array reference = Array::empty(DType::int64(), shape);
  for (auto& v : reference.values<std::int64_t>())
    v = -1;
  EXPECT_TRUE(same(ds->read(), reference));  // nothing written: the fill value
  std::vector<Selection> writes;
  for (const char* text : {"2:5, 1:3", "::-2, 5", "[7, 0, 3], [4, 1]", "..., 0", "8", "-1, -1"})
    writes.push_back(Selection::parse(text));
  writes.push_back(
      Selection{AxisSelection::mask({true, false, true, false, false, false, false, false, true})});
  std::mt19937_64 rng(9);
  while (writes.size() < 60) {
    // Positions repeated in a write have no defined winner: keep them unique.
    const Selection sel = random_selection(rng, shape);
    if (!has_repeats(sel, shape)) writes.push_back(sel);
  }
  int seed = 0;
  for (const Selection& sel : writes) {
    const Array values = sample(DType::int64(), sel.result_shape(shape), 1000 * ++seed);
    ds->write(sel, values);
    put(reference.mutable_view(), sel, values);
    ASSERT_TRUE(same(ds->read(), reference)) << sel.to_string();
  }
  ds->write(Selection::parse("1:3"), int64s({77}, Shape{}));  // one value, broadcast
  put(reference.mutable_view(), Selection::parse("1:3"), int64s({77}, Shape{}));
  EXPECT_TRUE(same(ds->read(), reference));
}

TEST_P(Conformance, UnwrittenElementsHoldTheFillValue) {
  struct Case {
    DType dtype;
    nlohmann::json fill;
    bool supported;
  };
  const std::vector<Case> cases{
      {DType::int32(), -3, true},
      {DType::uint16(), 7, true},
      {DType::float64(), 2.5, true},
      {DType::boolean(), true, true},
      {DType::float16(), 1.5, can().float16},
      {DType::complex64(), {1.5, -2}, can().complex},
      {DType::from_string(">i4"), -7, can().big_endian},
      {DType::string(4), "ab", can().fixed_strings},
  };
  for (const Case& c : cases) {
    if (!c.supported) continue;
    SCOPED_TRACE(c.dtype.numpy_str());
    const std::string name = "f_" + c.dtype.name() + (c.dtype.is_native() ? "" : "_be");
    auto ds =
        root_->create_dataset(name, {.dtype = c.dtype, .shape = Shape{3, 2}, .fill_value = c.fill});
    EXPECT_EQ(ds->fill_value(), c.fill);
    const Array values = ds->read();
    ASSERT_EQ(values.shape(), (Shape{3, 2}));
    const Array first = ds->read(Selection::parse("0, 0"));
    const std::size_t item = values.dtype().item_size();
    for (std::int64_t i = 0; i < values.num_elements(); ++i) {
      const std::byte* element = values.data() + static_cast<std::size_t>(i) * item;
      ASSERT_TRUE(std::equal(element, element + item, first.data())) << i;
    }
    ds->write(Selection::parse("1, 1"), sample(c.dtype, Shape{}, 5));
    EXPECT_TRUE(same(ds->read(Selection::parse("2")), ds->read(Selection::parse("0"))));
  }
  // Without a fill value: zeros.
  auto plain = root_->create_dataset("plain", {.dtype = DType::int16(), .shape = Shape{4}});
  EXPECT_EQ(plain->fill_value(), 0);
  EXPECT_TRUE(same(plain->read(), Array::zeros(DType::int16(), Shape{4})));
  EXPECT_EQ(
      root_->open_dataset("f_int32")->read(Selection::parse("2, 1")).values<std::int32_t>()[0], -3);
}

TEST_P(Conformance, ScalarDatasetsHoldOneElement) {
  auto ds = root_->create_dataset("s", {.dtype = DType::float64(), .shape = Shape{}});
  EXPECT_EQ(ds->shape(), Shape{});
  EXPECT_EQ(ds->rows(), 1);
  EXPECT_TRUE(same(ds->read(), Array::zeros(DType::float64(), Shape{})));
  const Array value = sample(DType::float64(), Shape{}, 3);
  ds->write(Selection(), value);
  EXPECT_TRUE(same(ds->read(), value));
  EXPECT_EQ(error_of([&] { ds->gather(std::vector<std::int64_t>{0}); }),
            ErrorCode::invalid_argument);
  EXPECT_EQ(error_of([&] { ds->append(value); }), ErrorCode::invalid_argument);
  EXPECT_EQ(error_of([&] { ds->read(Selection::parse("0")); }), ErrorCode::out_of_range);
  EXPECT_TRUE(same(ds->read(), value));
  EXPECT_EQ(error_of([&] {
              root_->create_dataset(
                  "e", {.dtype = DType::float64(), .shape = Shape{}, .extendable = true});
            }),
            ErrorCode::invalid_argument);
  EXPECT_FALSE(root_->contains("e"));
}

TEST_P(Conformance, EmptyDatasetsReadAsEmptyArrays) {
  auto rows = root_->create_dataset("rows", {.dtype = DType::float32(), .shape = Shape{0, 3}});
  EXPECT_EQ(rows->read().shape(), (Shape{0, 3}));
  EXPECT_EQ(rows->read(Selection::parse("::-1, 1")).shape(), (Shape{0}));
  rows->write(Selection(), Array::zeros(DType::float32(), Shape{0, 3}));
  EXPECT_EQ(rows->gather(std::vector<std::int64_t>{}).shape(), (Shape{0, 3}));
  auto columns = root_->create_dataset("columns", {.dtype = DType::int8(), .shape = Shape{4, 0}});
  EXPECT_EQ(columns->read(Selection::parse("1:3")).shape(), (Shape{2, 0}));
  EXPECT_EQ(columns->storage_info().logical_bytes, 0u);
  auto ext = root_->create_dataset(
      "ext", {.dtype = DType::int64(), .shape = Shape{0, 2}, .extendable = true});
  EXPECT_EQ(ext->read().shape(), (Shape{0, 2}));
  EXPECT_EQ(error_of([&] { ext->read(Selection::parse("0")); }), ErrorCode::out_of_range);
}

TEST_P(Conformance, FixedLengthStrings) {
  if (!can().fixed_strings) GTEST_SKIP() << "no fixed-length strings";
  auto ds = root_->create_dataset("s", {.dtype = DType::string(5), .shape = Shape{4}});
  EXPECT_EQ(ds->read_strings(Selection()), (std::vector<std::string>{"", "", "", ""}));
  ds->write_strings(Selection(), {"a", "bcd", "efghi", ""});
  EXPECT_EQ(ds->read_strings(Selection::parse("::-1")),
            (std::vector<std::string>{"", "efghi", "bcd", "a"}));
  EXPECT_EQ(ds->read_strings(Selection::parse("[2, 0, 2]")),
            (std::vector<std::string>{"efghi", "a", "efghi"}));
  ds->write_strings(Selection::parse("1"), {"zz"});
  const std::vector<std::string> kept{"a", "zz", "efghi", ""};
  EXPECT_EQ(ds->read_strings(Selection()), kept);
  EXPECT_EQ(error_of([&] { ds->write_strings(Selection::parse("0"), {"toolong"}); }),
            ErrorCode::invalid_argument);
  EXPECT_EQ(error_of([&] { ds->write_strings(Selection::parse("0:2"), {"x"}); }),
            ErrorCode::invalid_argument);
  EXPECT_EQ(error_of([&] {
              ds->write_strings(Selection::parse("0:2"), {"x", "y", "z"});
            }),
            ErrorCode::invalid_argument);
  EXPECT_EQ(error_of([&] { ds->read_strings(Selection::parse("4")); }), ErrorCode::out_of_range);
  EXPECT_EQ(ds->read_strings(Selection()), kept);
  const Array raw = ds->read(Selection::parse("2"));
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(raw.data()), 5), "efghi");

  auto grid = root_->create_dataset("grid", {.dtype = DType::string(3), .shape = Shape{2, 2}});
  grid->write_strings(Selection(), {"a", "b", "c", "d"});
  EXPECT_EQ(grid->read_strings(Selection::parse(":, 1")), (std::vector<std::string>{"b", "d"}));
  auto numbers = stored("n", int64s({1}, Shape{1}));
  EXPECT_EQ(error_of([&] { numbers->read_strings(Selection()); }), ErrorCode::type_mismatch);
  EXPECT_EQ(error_of([&] { numbers->write_strings(Selection(), {"1"}); }),
            ErrorCode::type_mismatch);
}

TEST_P(Conformance, VariableLengthStrings) {
  const DatasetOptions options{.dtype = DType::vstring(), .shape = Shape{3}};
  if (!can().vstring) {
    EXPECT_EQ(error_of([&] { root_->create_dataset("v", options); }), ErrorCode::unsupported);
    EXPECT_FALSE(root_->contains("v"));
    return;
  }
  auto ds = root_->create_dataset("v", options);
  EXPECT_EQ(ds->dtype(), DType::vstring());
  EXPECT_EQ(ds->read_strings(Selection()), (std::vector<std::string>{"", "", ""}));
  const std::vector<std::string> values{"x", "a much longer string, µ ✓", ""};
  ds->write_strings(Selection(), values);
  EXPECT_EQ(ds->read_strings(Selection::parse("[1, 0, 1]")),
            (std::vector<std::string>{values[1], "x", values[1]}));
  EXPECT_EQ(error_of([&] { ds->read(); }), ErrorCode::type_mismatch);
  EXPECT_EQ(error_of([&] {
              ds->write(Selection(), int64s({1, 2, 3}, Shape{3}));
            }),
            ErrorCode::type_mismatch);
  EXPECT_EQ(error_of([&] { ds->write_strings(Selection(), {"only one"}); }),
            ErrorCode::invalid_argument);
  EXPECT_EQ(error_of([&] { ds->write_strings(Selection::parse("3"), {"x"}); }),
            ErrorCode::out_of_range);
  EXPECT_EQ(ds->read_strings(Selection()), values);

  auto grid = root_->create_dataset("grid", {.dtype = DType::vstring(), .shape = Shape{2, 3}});
  grid->write_strings(Selection::parse("1, ::-1"), {"f", "e", "d"});
  EXPECT_EQ(grid->read_strings(Selection::parse("[1, 0], 0")), (std::vector<std::string>{"d", ""}));
  auto ext = root_->create_dataset(
      "ext", {.dtype = DType::vstring(), .shape = Shape{1}, .extendable = true});
  ext->write_strings(Selection(), {"first"});
  ext->resize(Shape{3});
  ext->write_strings(Selection::parse("2"), {"third"});
  EXPECT_EQ(ext->read_strings(Selection()), (std::vector<std::string>{"first", "", "third"}));
  EXPECT_EQ(error_of([&] { ext->append(int64s({1}, Shape{1})); }), ErrorCode::type_mismatch);
  if (can().persistent) {
    ds.reset();
    grid.reset();
    ext.reset();
    reopen();
    EXPECT_EQ(root_->open_dataset("v")->read_strings(Selection()), values);
    EXPECT_EQ(root_->open_dataset("ext")->read_strings(Selection::parse("::2")),
              (std::vector<std::string>{"first", "third"}));
  }
}

TEST_P(Conformance, ChunksCodecAndStorageAreReported) {
  auto ds = root_->create_dataset(
      "c", {.dtype = DType::float64(), .shape = Shape{10, 6}, .chunks = {4, 3}});
  if (can().chunks) {
    EXPECT_EQ(ds->chunks(), (std::vector<std::int64_t>{4, 3}));
  } else {
    EXPECT_TRUE(ds->chunks().empty());
  }
  EXPECT_EQ(ds->codec()->id, "none");
  EXPECT_EQ(ds->extendable(), can().always_resizable);
  EXPECT_EQ(ds->storage_info().logical_bytes, 480u);

  const DatasetOptions zstd{
      .dtype = DType::float64(), .shape = Shape{10, 6}, .codec = {.id = "zstd", .level = 3}};
  if (can().compression) {
    auto z = root_->create_dataset("z", zstd);
    EXPECT_EQ(z->codec()->id, "zstd");
    EXPECT_EQ(z->codec()->level, 3);
    EXPECT_FALSE(z->chunks().empty());
  } else {
    const Error e = error_from([&] { root_->create_dataset("z", zstd); });
    EXPECT_EQ(e.code(), ErrorCode::unsupported);
    EXPECT_NE(e.message().find("zstd"), std::string::npos) << e.what();
    EXPECT_FALSE(root_->contains("z"));
  }
  if (can().chunks) {
    std::vector<std::vector<std::int64_t>> bad{{4}, {0, 3}, {-1, 3}};
    if (!can().large_chunks) bad.push_back({4, 7});
    for (const std::vector<std::int64_t>& chunks : bad) {
      const Error e = error_from([&] {
        root_->create_dataset("bad",
                              {.dtype = DType::int8(), .shape = Shape{10, 6}, .chunks = chunks});
      });
      EXPECT_EQ(e.code(), ErrorCode::invalid_argument) << e.what();
      EXPECT_FALSE(root_->contains("bad"));
    }
  }
}

// ---- appends --------------------------------------------------------------------

TEST_P(Conformance, AppendsOfOneRowOrManyAreKept) {
  auto ds = root_->create_dataset(
      "e", {.dtype = DType::int64(), .shape = Shape{0, 3}, .chunks = {4, 3}, .extendable = true});
  EXPECT_TRUE(ds->extendable());
  std::vector<std::int64_t> want;
  const auto add = [&](std::int64_t rows, bool single) {
    std::vector<std::int64_t> v(static_cast<std::size_t>(rows * 3));
    for (auto& x : v)
      x = static_cast<std::int64_t>(want.size()) + (&x - v.data());
    ds->append(int64s(v, single ? Shape{3} : Shape{rows, 3}));
    want.insert(want.end(), v.begin(), v.end());
    ASSERT_EQ(ds->shape(), (Shape{static_cast<std::int64_t>(want.size()) / 3, 3}));
    ASSERT_EQ(ints(ds->read()), want);
  };
  add(1, true);
  add(5, false);
  add(0, false);
  for (std::int64_t n : {1, 3, 4, 9, 2, 17})
    add(n, false);
  add(1, true);
  const Shape total{static_cast<std::int64_t>(want.size()) / 3, 3};
  ASSERT_TRUE(same(ds->gather(std::vector<std::int64_t>{42, 0, 20}),
                   take(int64s(want, total), Selection::parse("[42, 0, 20]"))));
  auto flat = root_->create_dataset(
      "flat", {.dtype = DType::int64(), .shape = Shape{0}, .extendable = true});
  flat->append(int64s({5}, Shape{}));  // one row of a 1-D dataset is a scalar
  flat->append(int64s({6, 7}, Shape{2}));
  EXPECT_EQ(ints(flat->read()), (std::vector<std::int64_t>{5, 6, 7}));
  if (can().persistent) {
    ds.reset();
    flat.reset();
    reopen("a");
    ds = root_->open_dataset("e");
    EXPECT_EQ(ints(ds->read()), want);
    add(2, false);  // and appends go on after reopening
    ds.reset();
    reopen();
    EXPECT_EQ(ints(root_->open_dataset("e")->read()), want);
    EXPECT_EQ(ints(root_->open_dataset("flat")->read()), (std::vector<std::int64_t>{5, 6, 7}));
  }
}

TEST_P(Conformance, ManySingleRowAppends) {
  auto ds = root_->create_dataset(
      "e", {.dtype = DType::int32(), .shape = Shape{0, 2}, .extendable = true});
  Array row = Array::empty(DType::int32(), Shape{2});
  for (std::int32_t i = 0; i < 2000; ++i) {
    row.values<std::int32_t>()[0] = i;
    row.values<std::int32_t>()[1] = -i;
    ds->append(row);
  }
  const Array all = ds->read();
  ASSERT_EQ(all.shape(), (Shape{2000, 2}));
  for (std::int32_t i = 0; i < 2000; ++i) {
    ASSERT_EQ(all.values<std::int32_t>()[static_cast<std::size_t>(2 * i)], i);
    ASSERT_EQ(all.values<std::int32_t>()[static_cast<std::size_t>(2 * i + 1)], -i);
  }
}

TEST_P(Conformance, BadAppendsAreRefusedAndChangeNothing) {
  auto ds = root_->create_dataset(
      "e", {.dtype = DType::float32(), .shape = Shape{0, 4}, .extendable = true});
  const Array rows = sample(DType::float32(), Shape{2, 4});
  ds->append(rows);
  EXPECT_EQ(error_of([&] {
              ds->append(Array::zeros(DType::float32(), Shape{2, 5}));
            }),
            ErrorCode::invalid_argument);
  EXPECT_EQ(error_of([&] {
              ds->append(Array::zeros(DType::float32(), Shape{1, 1, 4}));
            }),
            ErrorCode::invalid_argument);
  EXPECT_EQ(error_of([&] { ds->append(Array::zeros(DType::float32(), Shape{3})); }),
            ErrorCode::invalid_argument);
  EXPECT_EQ(error_of([&] {
              ds->append(Array::zeros(DType::float64(), Shape{2, 4}));
            }),
            ErrorCode::type_mismatch);
  EXPECT_EQ(error_of([&] { ds->append(Array::zeros(DType::int32(), Shape{4})); }),
            ErrorCode::type_mismatch);
  EXPECT_EQ(ds->shape(), (Shape{2, 4}));
  EXPECT_TRUE(same(ds->read(), rows));
  if (!can().always_resizable) {
    auto fixed = stored("fixed", int64s({1, 2}, Shape{2}));
    EXPECT_EQ(error_of([&] { fixed->append(int64s({3}, Shape{1})); }), ErrorCode::invalid_argument);
    EXPECT_EQ(ints(fixed->read()), (std::vector<std::int64_t>{1, 2}));
  }
}

// ---- gathers --------------------------------------------------------------------

TEST_P(Conformance, GathersReturnRowsInTheGivenOrderWithRepeats) {
  const Array values = sample(DType::float64(), Shape{50, 3});
  auto ds =
      stored("x", values, {.dtype = values.dtype(), .shape = values.shape(), .chunks = {8, 3}});
  const std::vector<std::int64_t> rows{49, 0, 25, 0, 7, 49, -1, 8, 9, 8};
  EXPECT_TRUE(same(ds->gather(rows), take(values, Selection{AxisSelection::indices(rows)})));
  EXPECT_EQ(ds->gather(std::vector<std::int64_t>{}).shape(), (Shape{0, 3}));
  auto ext = root_->create_dataset(
      "ext",
      {.dtype = DType::float64(), .shape = Shape{0, 3}, .chunks = {8, 3}, .extendable = true});
  ext->append(take(values, Selection::parse(":13")));  // rows past the last whole chunk too
  const std::vector<std::int64_t> some{12, 3, 12, 0, 9};
  EXPECT_TRUE(same(ext->gather(some), take(values, Selection{AxisSelection::indices(some)})));
}

TEST_P(Conformance, GathersOutOfRangeAreErrorsAndChangeNothing) {
  const Array values = sample(DType::int16(), Shape{10, 2});
  auto ds = stored("x", values);
  for (const std::vector<std::int64_t>& rows :
       {std::vector<std::int64_t>{1, 10}, {-11}, {3, 2, 1000000}}) {
    const Error e = error_from([&] { ds->gather(rows); });
    EXPECT_EQ(e.code(), ErrorCode::out_of_range);
    EXPECT_EQ(e.path(), "/x");
  }
  EXPECT_TRUE(same(ds->read(), values));
}

// ---- resize ---------------------------------------------------------------------

TEST_P(Conformance, ResizeGrowsWithTheFillValueAndShrinks) {
  auto ds = root_->create_dataset("e", {.dtype = DType::int64(),
                                        .shape = Shape{0},
                                        .chunks = {4},
                                        .extendable = true,
                                        .fill_value = 9});
  ds->append(int64s({0, 1, 2, 3, 4, 5, 6, 7, 8, 10}, Shape{10}));
  ds->resize(Shape{3});
  EXPECT_EQ(ints(ds->read()), (std::vector<std::int64_t>{0, 1, 2}));
  ds->resize(Shape{6});  // the rows cut off do not come back
  EXPECT_EQ(ints(ds->read()), (std::vector<std::int64_t>{0, 1, 2, 9, 9, 9}));
  ds->append(int64s({11, 12}, Shape{2}));
  ds->resize(Shape{10});
  EXPECT_EQ(ints(ds->read()), (std::vector<std::int64_t>{0, 1, 2, 9, 9, 9, 11, 12, 9, 9}));
  ds->resize(Shape{0});
  EXPECT_EQ(ds->read().shape(), (Shape{0}));
  ds->resize(Shape{2});
  EXPECT_EQ(ints(ds->read()), (std::vector<std::int64_t>{9, 9}));
}

TEST_P(Conformance, ResizesThatCannotBeAreRefusedAndChangeNothing) {
  const Array values = int64s({1, 2, 3, 4, 5, 6}, Shape{3, 2});
  auto fixed = stored("fixed", values);
  auto ext = root_->create_dataset(
      "ext", {.dtype = DType::int64(), .shape = Shape{0, 2}, .extendable = true});
  ext->append(values);
  // A fixed array refuses a new shape; one that always resizes only a new rank.
  std::vector<Shape> refused{Shape{6}, Shape{3, 2, 1}};
  if (!can().always_resizable)
    refused.insert(refused.end(), {Shape{4, 2}, Shape{2, 2}, Shape{3, 3}});
  for (const Shape& shape : refused) {
    EXPECT_EQ(error_of([&] { fixed->resize(shape); }), ErrorCode::invalid_argument)
        << shape.to_string();
  }
  refused = {Shape{6}};
  if (!can().always_resizable) refused.insert(refused.end(), {Shape{3, 3}, Shape{4, 1}});
  for (const Shape& shape : refused) {
    EXPECT_EQ(error_of([&] { ext->resize(shape); }), ErrorCode::invalid_argument)
        << shape.to_string();
  }
  fixed->resize(Shape{3, 2});  // no change: allowed
  EXPECT_TRUE(same(fixed->read(), values));
  EXPECT_TRUE(same(ext->read(), values));
}

// ---- bad input ------------------------------------------------------------------

TEST_P(Conformance, WritesOfTheWrongDtypeShapeOrPlaceChangeNothing) {
  const Array values = int64s({0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, Shape{10});
  auto ds = stored("x", values);
  const auto refused = [&](const char* selection, const Array& given, ErrorCode code) {
    SCOPED_TRACE(selection);
    const Error e = error_from([&] { ds->write(Selection::parse(selection), given); });
    EXPECT_EQ(e.code(), code) << e.what();
    EXPECT_EQ(e.path(), "/x");
    EXPECT_TRUE(same(ds->read(), values));
  };
  refused("0:3", Array::zeros(DType::float64(), Shape{3}), ErrorCode::type_mismatch);
  refused("0:3", Array::zeros(DType::int32(), Shape{3}), ErrorCode::type_mismatch);
  refused("0:3", Array::zeros(DType::int64(), Shape{4}), ErrorCode::invalid_argument);
  refused("0:3", Array::zeros(DType::int64(), Shape{3, 1}), ErrorCode::invalid_argument);
  refused("10", Array::zeros(DType::int64(), Shape{}), ErrorCode::out_of_range);
  refused("[0, 10]", Array::zeros(DType::int64(), Shape{2}), ErrorCode::out_of_range);
  refused("0, 0", Array::zeros(DType::int64(), Shape{}), ErrorCode::out_of_range);
  const Error mask = error_from([&] {
    ds->write(Selection{AxisSelection::mask({true, false})},
              Array::zeros(DType::int64(), Shape{1}));
  });
  EXPECT_EQ(mask.code(), ErrorCode::out_of_range);
  EXPECT_TRUE(same(ds->read(), values));
}

TEST_P(Conformance, ReadsOutsideTheArrayAreOutOfRange) {
  auto ds = stored("x", sample(DType::int32(), Shape{10, 2}));
  for (const char* selection : {"10", "-11", "[3, 10]", "0, 2", "0, 0, 0", ":, [-3]"}) {
    const Error e = error_from([&] { ds->read(Selection::parse(selection)); });
    EXPECT_EQ(e.code(), ErrorCode::out_of_range) << selection;
    EXPECT_EQ(e.path(), "/x") << selection;
  }
  EXPECT_EQ(error_of([&] { ds->read(Selection::parse("..., 0, ...")); }),
            ErrorCode::invalid_argument);
}

TEST_P(Conformance, OptionsThatCannotBeHeldCreateNothing) {
  // Each refusal names the store, the dataset and the value at fault.
  const auto refused = [&](const DatasetOptions& options, const std::string& value) {
    const Error e = error_from([&] { root_->create_dataset("bad", options); });
    EXPECT_EQ(e.code(), ErrorCode::invalid_argument) << e.what();
    EXPECT_EQ(e.path(), "/bad") << e.what();
    EXPECT_FALSE(e.file().empty()) << e.what();
    EXPECT_NE(e.message().find(value), std::string::npos) << e.what();
    EXPECT_FALSE(root_->contains("bad"));
  };
  refused({.dtype = DType::int64(), .shape = Shape{3}, .fill_value = "x"}, "\"x\"");
  refused({.dtype = DType::float32(), .shape = Shape{3}, .fill_value = {1, 2, 3}}, "[1,2,3]");
  refused({.dtype = DType::int64(), .shape = Shape{}, .extendable = true}, "scalar");
  refused({.dtype = DType::int64(), .shape = Shape{std::int64_t{1} << 40, std::int64_t{1} << 20}},
          "2^60 bytes");
  EXPECT_TRUE(root_->members().empty());
}

// Ragged records run over the same drivers in tests/ragged/ragged_test.cpp.

std::string driver_name(const ::testing::TestParamInfo<Driver>& info) {
  return info.param.name;
}

INSTANTIATE_TEST_SUITE_P(Drivers, Conformance, ::testing::ValuesIn(larder::testing::drivers()),
                         driver_name);

}  // namespace
}  // namespace larder::store
