// The memory-mapped driver (.lmm directories, memmpy directories read-only):
// round trips, zero-copy reads, appends that survive kill -9, bad input.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <numeric>
#include <set>
#include <utility>

#include "../../src/store/mmap/sha256.h"
#include "../../src/store/mmap/sidecar.h"
#include "error_of.h"
#include "larder/core/error.h"
#include "larder/core/hash.h"
#include "larder/store/copy.h"
#include "larder/store/store.h"
#include "store/temp_dir.h"

namespace larder::store {
namespace {

using larder::testing::error_of;
using larder::testing::TempDir;

Array iota(DType dtype, Shape shape, double start = 0) {
  Array a = Array::empty(dtype, std::move(shape));
  if (dtype == DType::float64()) {
    auto v = a.values<double>();
    std::iota(v.begin(), v.end(), start);
  } else {
    auto v = a.values<std::int64_t>();
    std::iota(v.begin(), v.end(), static_cast<std::int64_t>(start));
  }
  return a;
}

std::string slurp(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

void spit(const std::filesystem::path& file, const std::string& text) {
  std::ofstream(file, std::ios::binary | std::ios::trunc) << text;
}

TEST(MmapStore, RoundTripsGroupsArraysAndAttributes) {
  TempDir dir;
  const auto file = dir / "x.lmm";
  {
    auto st = Store::open(file, "w");
    EXPECT_EQ(st->driver(), "mmap");
    auto a = st->root()->create_dataset("g/h/a", {.dtype = DType::float64(), .shape = Shape{4, 3}});
    a->write(Selection(), iota(DType::float64(), Shape{4, 3}));
    a->attrs().set("units", nlohmann::json("m"));
    a->attrs().set("lut", iota(DType::int64(), Shape{2, 2}).view());
    st->root()->attrs().set("run", nlohmann::json(7));
    st->root()->create_dataset("b", {.dtype = DType::int64(), .shape = Shape{3}, .fill_value = 5});
    st->root()->create_group("e");
  }
  auto st = Store::open(file, "r");
  std::vector<std::string> seen;
  st->root()->visit([&](const std::string& path, NodeKind) { seen.push_back(path); });
  EXPECT_EQ(seen, (std::vector<std::string>{"b", "e", "g", "g/h", "g/h/a"}));
  auto a = st->root()->open_dataset("/g/h/a");
  EXPECT_EQ(a->shape(), (Shape{4, 3}));
  EXPECT_TRUE(a->chunks().empty());
  EXPECT_EQ(a->codec()->id, "none");
  EXPECT_EQ(a->read(Selection::parse("2, 1")).values<double>()[0], 7.0);
  EXPECT_EQ(a->attrs().get_json("units"), "m");
  EXPECT_EQ(a->attrs().get_json("lut"), nlohmann::json::parse("[[0, 1], [2, 3]]"));
  EXPECT_EQ(st->root()->attrs().get_json("run"), 7);
  EXPECT_EQ(st->root()->open_dataset("b")->read().values<std::int64_t>()[2], 5);
  EXPECT_TRUE(st->root()->contains("g/h/a"));
  EXPECT_FALSE(st->root()->contains("g/a"));
  EXPECT_EQ(error_of([&] { st->root()->open("g/nope"); }), ErrorCode::not_found);
  EXPECT_EQ(error_of([&] {
              a->write(Selection(), iota(DType::float64(), Shape{4, 3}));
            }),
            ErrorCode::invalid_argument);  // read-only store
}

TEST(MmapStore, ContiguousRowsAreReadOnlyViewsOfTheMap) {
  TempDir dir;
  auto st = Store::open(dir / "x.lmm", "w");
  auto a = st->root()->create_dataset("a", {.dtype = DType::float64(), .shape = Shape{100, 4}});
  a->write(Selection(), iota(DType::float64(), Shape{100, 4}));
  Array rows = a->read(Selection::parse("10:20"));
  const Array& rows_c = rows;
  Array same = a->read(Selection::parse("10:12, :"));
  EXPECT_TRUE(rows.read_only());
  EXPECT_EQ(rows.data(), same.data());  // both alias the mapping
  EXPECT_EQ(rows_c.values<double>()[0], 40.0);
  EXPECT_EQ(error_of([&] { rows.mutable_view(); }), ErrorCode::invalid_argument);
  Array strided = a->read(Selection::parse("10:20:2, 1"));
  EXPECT_FALSE(strided.read_only());
  EXPECT_EQ(strided.values<double>()[1], 49.0);
  Array picked = a->gather(std::vector<std::int64_t>{5, 1, 5});
  EXPECT_EQ(picked.shape(), (Shape{3, 4}));
  EXPECT_EQ(picked.values<double>()[4], 4.0);
  st->close();
  EXPECT_EQ(rows_c.values<double>()[39], 79.0);  // the view keeps the map alive
}

TEST(MmapStore, AppendsGrowTheFileGeometricallyAndAreCommittedOnReturn) {
  TempDir dir;
  const auto file = dir / "x.lmm";
  auto st = Store::open(file, "w");
  auto a = st->root()->create_dataset(
      "a", {.dtype = DType::int64(), .shape = Shape{0, 2}, .extendable = true});
  std::int64_t rows = 0;
  std::set<std::uintmax_t> sizes;
  for (int i = 0; i < 200; ++i) {
    a->append(iota(DType::int64(), Shape{50, 2}, static_cast<double>(2 * rows)));
    rows += 50;
    sizes.insert(std::filesystem::file_size(file / "a.bin"));
  }
  EXPECT_LE(sizes.size(), 6u);  // 160000 bytes in a handful of ftruncates
  auto reader = Store::open(file, "r");
  const Array all = reader->root()->open_dataset("a")->read();
  ASSERT_EQ(all.shape(), (Shape{rows, 2}));
  for (std::int64_t i = 0; i < 2 * rows; ++i)
    ASSERT_EQ(all.values<std::int64_t>()[static_cast<std::size_t>(i)], i);
  // A reader sees what the writer commits later.
  auto seen = reader->root()->open_dataset("a");
  a->append(iota(DType::int64(), Shape{2}, 7));
  EXPECT_EQ(seen->shape(), (Shape{rows + 1, 2}));
  EXPECT_EQ(seen->read(Selection::parse("-1")).values<std::int64_t>()[1], 8);
}

TEST(MmapStore, ResizeFillsGrownRowsAndShrinks) {
  TempDir dir;
  auto st = Store::open(dir / "x.lmm", "w");
  auto a = st->root()->create_dataset(
      "a", {.dtype = DType::int64(), .shape = Shape{3}, .extendable = true, .fill_value = -1});
  a->write(Selection(), iota(DType::int64(), Shape{3}));
  a->resize(Shape{1});
  a->resize(Shape{4});
  const Array v = a->read();
  EXPECT_EQ(
      std::vector<std::int64_t>(v.values<std::int64_t>().begin(), v.values<std::int64_t>().end()),
      (std::vector<std::int64_t>{0, -1, -1, -1}));
  auto fixed = st->root()->create_dataset("f", {.dtype = DType::int64(), .shape = Shape{3, 2}});
  EXPECT_EQ(error_of([&] { fixed->resize(Shape{4, 2}); }), ErrorCode::invalid_argument);
  EXPECT_EQ(error_of([&] { a->resize(Shape{4, 1}); }), ErrorCode::invalid_argument);
}

TEST(MmapStore, RefusesCompressionAndVariableLengthStrings) {
  TempDir dir;
  auto st = Store::open(dir / "x.lmm", "w");
  try {
    st->root()->create_dataset("a", {.shape = Shape{3}, .codec = {.id = "zstd"}});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::unsupported);
    EXPECT_NE(e.message().find("mmap"), std::string::npos);
  }
  EXPECT_EQ(error_of([&] {
              st->root()->create_dataset("s", {.dtype = DType::vstring(), .shape = Shape{3}});
            }),
            ErrorCode::unsupported);
  EXPECT_FALSE(st->root()->contains("a"));
}

TEST(MmapStore, OpenModesFollowH5py) {
  TempDir dir;
  const auto file = dir / "x.lmm";
  EXPECT_EQ(error_of([&] { Store::open(file, "r"); }), ErrorCode::not_found);
  Store::open(file, "a")->root()->create_group("g");
  EXPECT_EQ(error_of([&] { Store::open(file, "w-"); }), ErrorCode::io);
  EXPECT_TRUE(Store::open(file, "r+")->root()->contains("g"));
  EXPECT_FALSE(Store::open(file, "w")->root()->contains("g"));
  std::filesystem::create_directories(dir / "other.lmm" / "stuff");
  EXPECT_EQ(error_of([&] { Store::open(dir / "other.lmm", "w"); }), ErrorCode::invalid_argument);
  EXPECT_TRUE(std::filesystem::exists(dir / "other.lmm" / "stuff"));
}

class MmapBadInput : public ::testing::Test {
 protected:
  void SetUp() override {
    auto st = Store::open(file, "w");
    auto a = st->root()->create_dataset("a", {.dtype = DType::float64(), .shape = Shape{10, 2}});
    a->write(Selection(), iota(DType::float64(), Shape{10, 2}));
  }
  // The Error opening and reading `a` gives, if any.
  std::optional<Error> open_error(bool untrusted = false) {
    try {
      auto st = Store::open(file, "r", {.untrusted = untrusted});
      st->root()->open_dataset("a")->read();
    } catch (const Error& e) {
      return e;
    }
    return std::nullopt;
  }
  void expect_corrupt(const std::string& naming, bool untrusted = false) {
    const auto e = open_error(untrusted);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->code(), ErrorCode::corrupt) << e->what();
    EXPECT_NE(std::string(e->what()).find(naming), std::string::npos) << e->what();
  }
  void edit_sidecar(const std::function<void(nlohmann::json&)>& edit) {
    auto doc = nlohmann::json::parse(slurp(file / "a.json"));
    edit(doc);
    spit(file / "a.json", doc.dump());
  }

  TempDir dir;
  std::filesystem::path file = dir / "x.lmm";
};

TEST_F(MmapBadInput, TruncatedDataFile) {
  std::filesystem::resize_file(file / "a.bin", 100);
  expect_corrupt("truncated");
}

TEST_F(MmapBadInput, SidecarClaimingMoreRowsThanTheFileHolds) {
  edit_sidecar([](nlohmann::json& d) {
    d["shape"][0] = 1000;
    d["length"] = 1000;
    d["checksum"]["blocks"] = {"0000000000000000"};
  });
  expect_corrupt("a.bin holds 160 bytes");
}

TEST_F(MmapBadInput, SidecarThatIsNotJsonOrHasWrongFields) {
  const std::vector<std::function<void(nlohmann::json&)>> edits = {
      [](nlohmann::json& d) { d["shape"][0] = -3; },
      [](nlohmann::json& d) {
        d["shape"] = {1u << 31, 1u << 31, 1u << 31};
      },
      [](nlohmann::json& d) { d["shape"] = "10"; },
      [](nlohmann::json& d) { d["dtype"] = "<q9"; },
      [](nlohmann::json& d) { d["dtype"] = "|O"; },
      [](nlohmann::json& d) { d["length"] = 11; },
      [](nlohmann::json& d) { d.erase("checksum"); },
      [](nlohmann::json& d) { d["checksum"]["blocks"] = {"xyz"}; },
      [](nlohmann::json& d) { d["checksum"]["block_bytes"] = 0; },
      [](nlohmann::json& d) { d["extendable"] = "yes"; },
      [](nlohmann::json& d) { d["fill_value"] = "text"; },
  };
  const std::string good = slurp(file / "a.json");
  for (std::size_t i = 0; i < edits.size(); ++i) {
    SCOPED_TRACE(i);
    spit(file / "a.json", good);
    edit_sidecar(edits[i]);
    expect_corrupt("a.json");
  }
  spit(file / "a.json", "{\"format\": \"larder-mmap\", ");
  expect_corrupt("not JSON");
}

TEST_F(MmapBadInput, ChecksumMismatchIsFoundByAnUntrustedOpenOnly) {
  {
    std::fstream f(file / "a.bin", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(8);
    f.put('\x7f');
  }
  EXPECT_FALSE(open_error());  // a plain open does not hash everything
  expect_corrupt("checksum mismatch", true);
}

TEST(MmapCrash, KillDuringAppendsKeepsEveryAcknowledgedRow) {
  TempDir dir;
  const auto file = dir / "x.lmm";
  Store::open(file, "w")->root()->create_dataset(
      "x", {.dtype = DType::int64(), .shape = Shape{0, 3}, .extendable = true});
  for (int trial = 0; trial < 5; ++trial) {
    int acks[2];
    ASSERT_EQ(pipe(acks), 0);
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(acks[0]);
      try {
        auto st = Store::open(file, "a");
        auto x = st->root()->open_dataset("x");
        for (std::int64_t n = 1;; n = n % 97 + 1) {
          const std::int64_t rows = x->rows();
          x->append(iota(DType::int64(), Shape{n, 3}, static_cast<double>(3 * rows)));
          const std::int64_t total = rows + n;
          if (write(acks[1], &total, sizeof total) != sizeof total) std::_Exit(3);
          if (trial == 0 && total > 5000) std::_Exit(0);  // nothing closed
        }
      } catch (...) {
        std::_Exit(2);
      }
    }
    ::close(acks[1]);
    std::int64_t acknowledged = 0, total = 0;
    for (int reads = 0; read(acks[0], &total, sizeof total) == sizeof total; ++reads) {
      acknowledged = total;
      if (trial > 0 && reads == 40 * trial) kill(pid, SIGKILL);
    }
    ::close(acks[0]);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    auto st = Store::open(file, "r", {.untrusted = true});  // checksums too
    const Array all = st->root()->open_dataset("x")->read();
    ASSERT_GE(all.shape()[0], acknowledged);
    const auto v = all.values<std::int64_t>();
    for (std::size_t i = 0; i < v.size(); ++i)
      ASSERT_EQ(v[i], static_cast<std::int64_t>(i)) << "trial " << trial;
  }
}

TEST(Memmpy, HashNamesFilesAsMemmpyDoes) {
  EXPECT_EQ(hex64(mmap::memmpy_hash64("x")), "02258717921a4881");
  EXPECT_EQ(hex64(mmap::memmpy_hash64("jag:index")), "1a5fc5a2e66e15b4");
  const auto abc = mmap::sha256("abc");  // FIPS 180-2, appendix B.1
  EXPECT_EQ(abc[0], 0xba);
  EXPECT_EQ(abc[31], 0xad);
}

TEST(Memmpy, DirectoriesOpenReadOnlyWithArraysByName) {
  TempDir dir;
  const auto path = dir / "data.mmpy";
  std::filesystem::create_directories(path);
  const Array x = iota(DType::float64(), Shape{11, 3});
  spit(path / (hex64(mmap::memmpy_hash64("x")) + ".npy"),
       std::string(reinterpret_cast<const char*>(x.data()), x.nbytes()));
  spit(path / "metadata_memmpy.json",
       R"({"arrays": {"x": {"check": "c1", "dtype": "<f8", "shape": [11, 3]}}, "hashes": {}})");
  auto st = Store::open(path, "r");
  EXPECT_EQ(st->driver(), "memmpy");
  auto ds = st->root()->open_dataset("x");
  EXPECT_EQ(ds->read(Selection::parse("10, 2")).values<double>()[0], 32.0);
  EXPECT_EQ(ds->attrs().get_json("check"), "c1");
  EXPECT_EQ(error_of([&] { Store::open(path, "a"); }), ErrorCode::unsupported);
  std::filesystem::resize_file(path / (hex64(mmap::memmpy_hash64("x")) + ".npy"), 100);
  EXPECT_EQ(error_of([&] { Store::open(path, "r")->root()->open_dataset("x"); }),
            ErrorCode::corrupt);
}

TEST(MmapCopy, CompressedHdf5ArraysCopyPlainAndBack) {
  TempDir dir;
  auto h5 = Store::open(dir / "a.h5", "w");
  auto src = h5->root()->create_dataset("g/a", {.dtype = DType::float64(),
                                                .shape = Shape{1000, 4},
                                                .codec = {.id = "zstd"},
                                                .extendable = true});
  src->write(Selection(), iota(DType::float64(), Shape{1000, 4}));
  src->attrs().set("units", nlohmann::json("m"));
  auto lmm = Store::open(dir / "b.lmm", "w");
  copy(*h5->root(), "g", *lmm->root(), "g");
  auto back = Store::open(dir / "c.h5", "w");
  copy(*lmm->root(), "g", *back->root(), "g");
  const Array values = back->root()->open_dataset("g/a")->read();
  EXPECT_EQ(values.values<double>()[3999], 3999.0);
  EXPECT_EQ(lmm->root()->open_dataset("g/a")->attrs().get_json("units"), "m");
  EXPECT_TRUE(lmm->root()->open_dataset("g/a")->extendable());
}

}  // namespace
}  // namespace larder::store
