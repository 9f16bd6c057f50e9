// The Store and Group API on the HDF5 driver: modes, paths, members, attributes.
#include "larder/store/store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <thread>

#include <hdf5.h>

#include "error_of.h"
#include "larder/core/error.h"
#include "larder/store/copy.h"
#include "store/temp_dir.h"

namespace larder::store {
namespace {

using testing::error_of;
using testing::TempDir;

TEST(Store, ModesCreateOpenAndRefuseAsH5pyDoes) {
  TempDir dir;
  const auto file = dir / "a.h5";
  EXPECT_EQ(error_of([&] { Store::open(file, "r"); }), ErrorCode::not_found);
  EXPECT_EQ(error_of([&] { Store::open(file, "r+"); }), ErrorCode::not_found);
  {
    auto store = Store::open(file, "w-");
    store->root()->create_group("g");
  }
  EXPECT_EQ(error_of([&] { Store::open(file, "w-"); }), ErrorCode::io);
  EXPECT_TRUE(Store::open(file, "a")->root()->contains("g"));
  EXPECT_TRUE(Store::open(file, "r")->root()->contains("g"));
  EXPECT_FALSE(Store::open(file, "w")->root()->contains("g"));  // truncated
  EXPECT_EQ(error_of([&] { parse_open_mode("rw"); }), ErrorCode::invalid_argument);
  // A new file is made under a temporary name and renamed into place:
  // nothing else is left beside it.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()),
                          std::filesystem::directory_iterator()),
            1);
}

TEST(Store, ANewFileInADirectoryThatCannotHoldItIsAnIoError) {
  TempDir dir;
  EXPECT_EQ(error_of([&] { Store::open(dir / "missing" / "a.h5", "w"); }), ErrorCode::io);
  EXPECT_EQ(error_of([&] { Store::open(dir / "missing" / "a.h5", "a"); }), ErrorCode::io);
}

TEST(Store, AFileThatIsNotHdf5IsCorruptAndUntouched) {
  TempDir dir;
  const auto file = dir / "notes.h5";
  std::ofstream(file) << "just some text, not HDF5";
  try {
    Store::open(file, "r+");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::corrupt);
    EXPECT_EQ(e.file(), file.string());
  }
  std::ifstream in(file);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(text, "just some text, not HDF5");
}

TEST(Store, ATruncatedFileIsCorrupt) {
  TempDir dir;
  const auto file = dir / "t.h5";
  {
    auto store = Store::open(file, "w");
    store->root()->create_dataset("x", {.dtype = DType::float32(), .shape = Shape{1000}});
  }
  std::filesystem::resize_file(file, std::filesystem::file_size(file) / 3);
  EXPECT_EQ(error_of([&] {
              auto s = Store::open(file, "r");
              s->root()->open_dataset("x")->read();
            }),
            ErrorCode::corrupt);
}

TEST(Store, UnknownSuffixNeedsADriver) {
  TempDir dir;
  EXPECT_EQ(error_of([&] { Store::open(dir / "data.bin", "w"); }), ErrorCode::invalid_argument);
  EXPECT_EQ(error_of([&] { Store::open(dir / "data.bin", "w", {.driver = "nosuch"}); }),
            ErrorCode::not_found);
  auto store = Store::open(dir / "data.bin", "w", {.driver = "hdf5"});
  EXPECT_EQ(store->driver(), "hdf5");
}

// Hdf5Turn holds libhdf5's lock: its own thread goes on calling HDF5
// stores (the lock is re-entrant), another thread's call waits until the
// turn ends.
TEST(Store, AnHdf5TurnKeepsOtherThreadsOutUntilItEnds) {
  TempDir dir;
  Store::open(dir / "a.h5", "w")->root()->create_group("g");
  std::atomic<bool> opened = false;
  std::thread other;
  {
    const Hdf5Turn turn;
    const Hdf5Turn again;  // re-entrant
    EXPECT_TRUE(Store::open(dir / "a.h5", "r")->root()->contains("g"));
    other = std::thread([&] { opened = Store::open(dir / "a.h5", "r")->root()->contains("g"); });
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // a chance to get in
    EXPECT_FALSE(opened);
  }
  other.join();
  EXPECT_TRUE(opened);
}

TEST(Group, PathsCreateIntermediatesAndListMembersInNameOrder) {
  TempDir dir;
  auto store = Store::open(dir / "g.h5", "w");
  auto root = store->root();
  auto c = root->create_group("a/b/c");
  EXPECT_EQ(c->path(), "/a/b/c");
  EXPECT_EQ(c->name(), "c");
  root->create_dataset("a/x", {.dtype = DType::int32(), .shape = Shape{3}});
  root->create_group("a/0");
  const auto members = root->open_group("a")->members();
  ASSERT_EQ(members.size(), 3u);
  EXPECT_EQ(members[0].name, "0");
  EXPECT_EQ(members[1].name, "b");
  EXPECT_EQ(members[2].kind, NodeKind::dataset);
  EXPECT_TRUE(root->contains("/a/b/c"));
  EXPECT_TRUE(c->contains("/a/x"));  // absolute paths start at the root
  EXPECT_FALSE(root->contains("a/b/zz"));
  EXPECT_EQ(root->require_group("a/b")->path(), "/a/b");
  EXPECT_EQ(root->require_group("new/one")->path(), "/new/one");

  std::vector<std::string> visited;
  root->open_group("a")->visit([&](const std::string& p, NodeKind) { visited.push_back(p); });
  EXPECT_EQ(visited, (std::vector<std::string>{"0", "b", "b/c", "x"}));
}

TEST(Group, MissingPathsNameWhatExists) {
  TempDir dir;
  auto store = Store::open(dir / "g.h5", "w");
  store->root()->create_group("runs/alpha");
  store->root()->create_group("runs/beta");
  try {
    store->root()->open_group("runs/gamma");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::not_found);
    EXPECT_EQ(e.path(), "/runs/gamma");
    EXPECT_NE(std::string(e.what()).find("alpha, beta"), std::string::npos) << e.what();
  }
  EXPECT_EQ(error_of([&] { store->root()->open_dataset("runs"); }), ErrorCode::type_mismatch);
  EXPECT_EQ(error_of([&] { store->root()->create_group("runs/alpha"); }),
            ErrorCode::invalid_argument);
  EXPECT_EQ(error_of([&] { store->root()->open("runs/../x"); }), ErrorCode::invalid_argument);
}

TEST(Group, RemoveDeletesAndReadOnlyRefuses) {
  TempDir dir;
  const auto file = dir / "g.h5";
  {
    auto store = Store::open(file, "w");
    store->root()->create_group("keep");
    store->root()->create_group("drop/inner");
    store->root()->remove("drop");
    EXPECT_FALSE(store->root()->contains("drop"));
    EXPECT_EQ(error_of([&] { store->root()->remove("drop"); }), ErrorCode::not_found);
  }
  auto store = Store::open(file, "r");
  EXPECT_EQ(error_of([&] { store->root()->create_group("x"); }), ErrorCode::invalid_argument);
  EXPECT_EQ(error_of([&] { store->root()->remove("keep"); }), ErrorCode::invalid_argument);
  EXPECT_TRUE(store->root()->contains("keep"));
}

TEST(Group, HardLinkCyclesAreVisitedNotEntered) {
  TempDir dir;
  const auto file = dir / "cycle.h5";
  {
    auto store = Store::open(file, "w");
    store->root()->create_dataset("a/x", {.dtype = DType::int32(), .shape = Shape{3}});
    store->close();
    // A link that makes /a its own member, as h5py's f["a/loop"] = f["a"] does.
    const hid_t f = H5Fopen(file.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    ASSERT_GE(H5Lcreate_hard(f, "/a", f, "/a/loop", H5P_DEFAULT, H5P_DEFAULT), 0);
    H5Fclose(f);
  }
  auto store = Store::open(file, "r");
  std::vector<std::string> seen;
  store->root()->visit([&](const std::string& path, NodeKind) { seen.push_back(path); });
  EXPECT_EQ(seen, (std::vector<std::string>{"a", "a/loop", "a/x"}));
  EXPECT_EQ(store->root()->open_group("a")->object_id(),
            store->root()->open_group("a/loop/loop")->object_id());
  EXPECT_NE(store->root()->object_id(), store->root()->open_group("a")->object_id());

  auto target = Store::open(dir / "scratch", "w", {.driver = "memory"});
  std::string why;
  EXPECT_EQ(error_of([&] { copy(*store->root(), "a", *target->root(), "b"); }, &why),
            ErrorCode::unsupported);
  EXPECT_NE(why.find("/a/loop"), std::string::npos) << why;
  EXPECT_FALSE(target->root()->contains("b"));  // nothing of the copy is left
}

TEST(Group, ClosedStoresRefuseTheirNodes) {
  TempDir dir;
  auto store = Store::open(dir / "c.h5", "w");
  auto group = store->root()->create_group("g");
  store->close();
  EXPECT_FALSE(store->is_open());
  EXPECT_EQ(error_of([&] { group->members(); }), ErrorCode::invalid_argument);
}

TEST(Attributes, JsonValuesRoundTripAndArraysKeepTheirShape) {
  TempDir dir;
  const auto file = dir / "attrs.h5";
  {
    auto store = Store::open(file, "w");
    auto group = store->root()->create_group("g");  // attrs() belongs to the group: keep it
    auto& attrs = group->attrs();
    attrs.set("int", 42);
    attrs.set("float", 2.5);
    attrs.set("flag", true);
    attrs.set("name", "larder");
    attrs.set("names", nlohmann::json::array({"a", "bc"}));
    attrs.set("numbers", nlohmann::json::array({1, 2, 3}));
    attrs.set("config", nlohmann::json{{"seed", 7}, {"dims", {"x", "y"}}});
    Array grid = Array::zeros(DType::float32(), Shape{2, 3});
    grid.values<float>()[5] = 9.5f;
    attrs.set("grid", grid);
  }
  auto store = Store::open(file, "r");
  auto group = store->root()->open_group("g");
  auto& attrs = group->attrs();
  EXPECT_EQ(attrs.get_json("int"), 42);
  EXPECT_EQ(attrs.get_json("float"), 2.5);
  EXPECT_EQ(attrs.get_json("flag"), true);
  EXPECT_EQ(attrs.get_json("name"), "larder");
  EXPECT_EQ(attrs.get_json("names"), nlohmann::json::array({"a", "bc"}));
  EXPECT_EQ(attrs.get_json("config")["dims"][1], "y");
  const auto grid = std::get<Array>(attrs.get("grid"));
  EXPECT_EQ(grid.shape(), (Shape{2, 3}));
  EXPECT_EQ(grid.values<float>()[5], 9.5f);
  EXPECT_EQ(attrs.get_json("numbers"), nlohmann::json::array({1, 2, 3}));
  auto names = attrs.names();
  EXPECT_EQ(names.size(), 8u);  // the JSON marker is not listed
  try {
    attrs.get("missing");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::not_found);
    EXPECT_NE(std::string(e.what()).find("config"), std::string::npos);
  }
}

TEST(Attributes, OverwriteAndRemove) {
  TempDir dir;
  auto store = Store::open(dir / "a.h5", "w");
  auto root = store->root();
  auto& attrs = root->attrs();
  attrs.set("x", nlohmann::json{{"a", 1}});
  attrs.set("x", 3);  // replaces, and is no longer JSON text
  EXPECT_EQ(attrs.get_json("x"), 3);
  attrs.remove("x");
  EXPECT_FALSE(attrs.contains("x"));
  EXPECT_EQ(error_of([&] { attrs.remove("x"); }), ErrorCode::not_found);
}

}  // namespace
}  // namespace larder::store
