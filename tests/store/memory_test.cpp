// What is particular to the memory driver: stores that are only a name,
// each open a fresh one, gone with their Store object. Everything else it
// shares with the other drivers is in conformance_test.cpp.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "error_of.h"
#include "larder/core/error.h"
#include "larder/store/store.h"
#include "store/temp_dir.h"

namespace larder::store {
namespace {

using larder::testing::error_of;

TEST(MemoryStore, IsChosenByTheNameMemoryOrByTheDriverOption) {
  EXPECT_EQ(Store::driver_for(":memory:"), "memory");
  EXPECT_EQ(Store::driver_for("scratch", {.driver = "memory"}), "memory");
  EXPECT_EQ(Store::driver_for("x.h5"), "hdf5");
  EXPECT_EQ(error_of([] { Store::driver_for("scratch"); }), ErrorCode::invalid_argument);

  auto store = Store::memory();
  EXPECT_EQ(store->driver(), "memory");
  EXPECT_EQ(store->path(), ":memory:");
  EXPECT_EQ(store->mode(), OpenMode::truncate);
  auto named = Store::open("scratch.h5", "a", {.driver = "memory"});
  EXPECT_EQ(named->driver(), "memory");
  named->root()->create_group("g");
  EXPECT_FALSE(std::filesystem::exists("scratch.h5"));  // the path is only a name
}

TEST(MemoryStore, EveryOpenIsAFreshStoreAndNoneOpensForReading) {
  auto first = Store::open(":memory:", "w");
  first->root()->create_group("only-here");
  for (const char* mode : {"w", "w-", "a", "r+"}) {
    auto other = Store::open(":memory:", mode);
    EXPECT_TRUE(other->root()->members().empty()) << mode;
    EXPECT_TRUE(is_writable(other->mode()));
  }
  EXPECT_TRUE(first->root()->contains("only-here"));
  std::string why;
  EXPECT_EQ(error_of([] { Store::open(":memory:", "r"); }, &why), ErrorCode::not_found);
  EXPECT_NE(why.find("'w'"), std::string::npos) << why;
}

TEST(MemoryStore, ClosingLetsGoOfEverything) {
  auto store = Store::memory("scratch");
  auto root = store->root();
  auto ds = root->create_dataset("g/x", {.dtype = DType::float64(), .shape = Shape{1000}});
  auto group = root->open_group("g");
  auto& attrs = group->attrs();  // belongs to `group`
  store->close();
  EXPECT_FALSE(store->is_open());
  EXPECT_EQ(error_of([&] { ds->read(); }), ErrorCode::invalid_argument);
  EXPECT_EQ(error_of([&] { attrs.names(); }), ErrorCode::invalid_argument);
  EXPECT_EQ(error_of([&] { root->members(); }), ErrorCode::invalid_argument);
  EXPECT_EQ(error_of([&] { store->flush(); }), ErrorCode::invalid_argument);
}

TEST(MemoryStore, NodesOfARemovedPathStopWorking) {
  auto store = Store::memory();
  auto ds = store->root()->create_dataset("g/x", {.dtype = DType::int32(), .shape = Shape{3}});
  auto group = store->root()->open_group("g");
  store->root()->remove("g");
  std::string why;
  EXPECT_EQ(error_of([&] { ds->read(); }, &why), ErrorCode::not_found);
  EXPECT_NE(why.find("/g/x"), std::string::npos) << why;
  EXPECT_EQ(error_of([&] { group->create_group("h"); }), ErrorCode::not_found);
  // A new node at the same path is a new one.
  auto again = store->root()->create_dataset("g/x", {.dtype = DType::int8(), .shape = Shape{1}});
  EXPECT_EQ(again->dtype(), DType::int8());
  EXPECT_EQ(error_of([&] { ds->shape(); }), ErrorCode::not_found);
}

TEST(MemoryStore, DataIsHeldPlainWithTheChunksItWasGiven) {
  auto store = Store::memory();
  auto ds = store->root()->create_dataset(
      "x", {.dtype = DType::float32(), .shape = Shape{100, 4}, .chunks = {10, 4}});
  EXPECT_EQ(ds->chunks(), (std::vector<std::int64_t>{10, 4}));
  EXPECT_EQ(ds->codec()->id, "none");
  const StorageInfo info = ds->storage_info();
  EXPECT_EQ(info.layout, "memory");
  EXPECT_EQ(info.logical_bytes, 1600u);
  EXPECT_EQ(info.stored_bytes, 1600u);
  EXPECT_EQ(info.filters, "");
  auto v = store->root()->create_dataset("v", {.dtype = DType::vstring(), .shape = Shape{2}});
  v->write_strings(Selection(), {"abc", "de"});
  EXPECT_EQ(v->storage_info().stored_bytes, 5u);
}

TEST(MemoryStore, ManyOneRowAppendsKeepEveryRow) {
  // The buffer grows geometrically, so this takes milliseconds; copying the
  // whole array per append would take minutes.
  auto store = Store::memory();
  auto ds = store->root()->create_dataset(
      "x", {.dtype = DType::int64(), .shape = Shape{0, 8}, .extendable = true});
  Array row = Array::zeros(DType::int64(), Shape{8});
  for (std::int64_t i = 0; i < 100000; ++i) {
    row.values<std::int64_t>()[0] = i;
    ds->append(row);
  }
  EXPECT_EQ(ds->shape(), (Shape{100000, 8}));
  EXPECT_EQ(ds->read(Selection::parse("-1, 0")).values<std::int64_t>()[0], 99999);
  EXPECT_EQ(ds->read(Selection::parse("5000, 0")).values<std::int64_t>()[0], 5000);
}

// Objects of one store on several threads: readers see whole appends only.
TEST(MemoryStore, ReadersOnOtherThreadsSeeWholeAppends) {
  auto store = Store::memory();
  auto writer = store->root()->create_dataset(
      "x", {.dtype = DType::int64(), .shape = Shape{0, 2}, .extendable = true});
  std::vector<std::thread> readers;
  std::atomic<int> torn = 0;
  std::atomic<bool> done = false;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      auto reader = store->root()->open_dataset("x");  // each thread its own object
      while (!done) {
        const Array rows = reader->read();
        const auto v = rows.values<std::int64_t>();
        for (std::size_t i = 0; i < v.size(); ++i)
          torn += v[i] != static_cast<std::int64_t>(i) ? 1 : 0;
      }
    });
  }
  Array batch = Array::empty(DType::int64(), Shape{3, 2});
  for (std::int64_t n = 0; n < 2000; ++n) {
    for (std::int64_t i = 0; i < 6; ++i)
      batch.values<std::int64_t>()[static_cast<std::size_t>(i)] = 6 * n + i;
    writer->append(batch);
  }
  done = true;
  for (auto& r : readers)
    r.join();
  EXPECT_EQ(torn, 0);
  EXPECT_EQ(writer->shape(), (Shape{6000, 2}));
}

}  // namespace
}  // namespace larder::store
