// The memory-mapped driver (.lmm directories, memmpy directories read-only):
// round trips, zero-copy reads, appends that survive kill -9, the commit
// file of format version 2, version 1 stores, bad input.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <numeric>
#include <set>
#include <utility>

#include "../../src/store/mmap/commit.h"
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

// ---- format version 2: the commit file ------------------------------------------

::testing::AssertionResult mentions(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << text << "\" does not mention \"" << part << "\"";
}

mmap::Commit commit_with(std::uint64_t sequence, std::uint64_t rows) {
  return {
      .sequence = sequence, .rows = rows, .full_blocks = 0, .tail_checksum = 9, .row_bytes = 16};
}

// A commit file holding `commits`, each in its slot.
std::vector<std::byte> commit_file(const std::vector<mmap::Commit>& commits) {
  std::vector<std::byte> bytes(mmap::kCommitFileBytes);
  for (const auto& c : commits) {
    const auto slot = mmap::format_commit_slot(c);
    std::copy(slot.begin(), slot.end(), bytes.begin() + mmap::commit_slot_offset(c.sequence));
  }
  return bytes;
}

TEST(MmapCommitFile, TheNewestValidSlotCounts) {
  const auto a = commit_with(5, 100), b = commit_with(6, 130);
  auto bytes = commit_file({a, b});
  EXPECT_EQ(mmap::parse_commit_file(bytes), b);
  bytes[mmap::commit_slot_offset(6) + 20] ^= std::byte{1};  // b torn: a, the commit before, counts
  EXPECT_EQ(mmap::parse_commit_file(bytes), a);
  bytes[mmap::commit_slot_offset(5) + 63] ^= std::byte{1};  // both torn: none
  EXPECT_EQ(mmap::parse_commit_file(bytes), std::nullopt);
  EXPECT_EQ(mmap::parse_commit_file(std::vector<std::byte>(128)), std::nullopt);  // never written
  // A file cut short: the missing slot was never written.
  const auto first = commit_file({commit_with(2, 1)});
  EXPECT_EQ(mmap::parse_commit_file(std::span(first).first(64)), commit_with(2, 1));
  EXPECT_EQ(mmap::parse_commit_file(std::span(first).first(63)), std::nullopt);
  // A valid slot in the other slot's place was not written there by larder.
  const auto slot = mmap::format_commit_slot(commit_with(7, 1));
  std::vector<std::byte> misplaced(128);
  std::copy(slot.begin(), slot.end(), misplaced.begin());
  EXPECT_EQ(mmap::parse_commit_file(misplaced), std::nullopt);
}

TEST(MmapCommitFile, CommitsThatDoNotFitTheArrayAreCorrupt) {
  mmap::Sidecar array;
  array.dtype = DType::int64();
  array.shape = Shape{0, 2};  // rows of 16 bytes
  array.extendable = true;
  array.block_bytes = 4096;
  const mmap::ArrayFiles files{.data = "a.bin", .commit = "a.commit", .sums = "a.sums"};
  // 1000 rows: 16000 bytes, 3 full blocks and a partial one.
  const mmap::Commit good{
      .sequence = 4, .rows = 1000, .full_blocks = 3, .tail_checksum = 77, .row_bytes = 16};
  EXPECT_NO_THROW(mmap::check_commit(good, array, 16000, 24, files));
  const auto refusal = [&](mmap::Commit c, std::uint64_t data_bytes, std::uint64_t sums_bytes) {
    try {
      mmap::check_commit(c, array, data_bytes, sums_bytes, files);
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::corrupt);
      return e.file() + ": " + e.message();
    }
    return std::string("accepted");
  };
  EXPECT_TRUE(mentions(refusal(good, 15999, 24), "a.commit: a.commit (commit 4)"));
  EXPECT_TRUE(mentions(refusal(good, 15999, 24), "a.bin holds 15999 bytes"));
  EXPECT_TRUE(refusal(good, 16000, 23).starts_with("a.sums: "));
  auto c = good;
  c.row_bytes = 8;
  EXPECT_TRUE(mentions(refusal(c, 16000, 24), "rows of 8 bytes"));
  c = good;
  c.full_blocks = 2;
  EXPECT_TRUE(mentions(refusal(c, 16000, 24), "2 full blocks"));
  c = good;
  c.rows = 1024;  // 4 whole blocks: no tail
  c.full_blocks = 4;
  EXPECT_TRUE(mentions(refusal(c, 1 << 20, 32), "tail checksum"));
  c = good;
  c.rows = std::uint64_t{1} << 62;
  EXPECT_TRUE(mentions(refusal(c, ~std::uint64_t{0}, ~std::uint64_t{0}), "2^60"));
  array.extendable = false;
  EXPECT_TRUE(mentions(refusal(good, 16000, 24), "fixed-size"));
}

// Objects a child keeps open until it exits.
using KeepOpen = std::vector<std::shared_ptr<void>>;

// Runs `body` in a child process that then ends with _Exit, closing nothing
// `body` put in its KeepOpen: what a writer killed after its last call
// returned leaves behind.
void in_child_without_closing(const std::function<void(KeepOpen&)>& body) {
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    KeepOpen open;
    try {
      body(open);
    } catch (...) {
      std::_Exit(2);
    }
    std::_Exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "the child failed: " << status;
}

std::int64_t length_in_sidecar(const std::filesystem::path& sidecar) {
  return nlohmann::json::parse(slurp(sidecar))["length"].get<std::int64_t>();
}

class MmapCommits : public ::testing::Test {
 protected:
  // x: extendable int64 rows of 2, x[r] = {2r, 2r + 1}.
  void SetUp() override {
    Store::open(file, "w")->root()->create_dataset(
        "x", {.dtype = DType::int64(), .shape = Shape{0, 2}, .extendable = true});
  }
  // Appends `rows` rows in pieces of `piece`, in a child that never closes.
  void append_and_die(std::int64_t rows, std::int64_t piece = 100'000) {
    in_child_without_closing([&](KeepOpen& open) {
      std::shared_ptr<Store> st = Store::open(file, "a");
      open.push_back(st);
      auto x = st->root()->open_dataset("x");
      for (std::int64_t done = 0; done < rows; done += piece) {
        const std::int64_t n = std::min(piece, rows - done);
        x->append(iota(DType::int64(), Shape{n, 2}, static_cast<double>(2 * x->rows())));
      }
    });
  }
  // Every row of x holds its values; the checksums are verified first.
  std::int64_t check_rows() {
    auto st = Store::open(file, "r", {.untrusted = true});
    const Array all = st->root()->open_dataset("x")->read();
    const auto v = all.values<std::int64_t>();
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (v[i] != static_cast<std::int64_t>(i)) {
        ADD_FAILURE() << "element " << i << " is " << v[i];
        break;
      }
    }
    return all.shape()[0];
  }
  Error open_error() {
    try {
      Store::open(file, "r")->root()->open_dataset("x")->read();
    } catch (const Error& e) {
      return e;
    }
    ADD_FAILURE() << "no error opening x";
    return Error(ErrorCode::io, "none");
  }
  // Rewrites the slot holding the commit that counts.
  void damage_latest_slot() {
    auto bytes = slurp(file / "x.commit");
    const auto latest = mmap::parse_commit_file(std::as_bytes(std::span(bytes)));
    ASSERT_TRUE(latest);
    bytes[mmap::commit_slot_offset(latest->sequence) + 25] ^= 0x40;
    spit(file / "x.commit", bytes);
  }

  TempDir dir;
  std::filesystem::path file = dir / "x.lmm";
};

TEST_F(MmapCommits, AppendsLeaveTheSidecarToFlushAndClose) {
  const std::string created = slurp(file / "x.json");
  auto st = Store::open(file, "a");
  auto x = st->root()->open_dataset("x");
  for (int i = 0; i < 10; ++i)
    x->append(iota(DType::int64(), Shape{7, 2}, static_cast<double>(2 * x->rows())));
  EXPECT_EQ(slurp(file / "x.json"), created);
  EXPECT_EQ(std::filesystem::file_size(file / "x.commit"), mmap::kCommitFileBytes);
  auto reader = Store::open(file, "r");
  auto seen = reader->root()->open_dataset("x");
  EXPECT_EQ(seen->rows(), 70);
  x->append(iota(DType::int64(), Shape{1, 2}, 140));
  EXPECT_EQ(seen->rows(), 71);  // from the commit file: the sidecar still says 0
  EXPECT_EQ(length_in_sidecar(file / "x.json"), 0);
  st->flush();
  EXPECT_EQ(length_in_sidecar(file / "x.json"), 71);
  // A Dataset object that comes and goes does not write the sidecar: the
  // store does, on close.
  st->root()->open_dataset("x")->append(iota(DType::int64(), Shape{2, 2}, 142));
  EXPECT_EQ(length_in_sidecar(file / "x.json"), 71);
  st->close();
  EXPECT_EQ(length_in_sidecar(file / "x.json"), 73);
  EXPECT_EQ(check_rows(), 73);
}

TEST_F(MmapCommits, AWriterThatNeverClosesLosesNoRowAndNoChecksum) {
  append_and_die(1'000'000, 70'001);  // 16 MB: blocks completed across appends
  EXPECT_EQ(length_in_sidecar(file / "x.json"), 0);
  EXPECT_EQ(std::filesystem::file_size(file / "x.sums"), 3 * mmap::kSumBytes);
  EXPECT_EQ(check_rows(), 1'000'000);  // untrusted: every checksum verified
  // The next writer carries on, shrinks, appends, and dies again.
  in_child_without_closing([&](KeepOpen& open) {
    std::shared_ptr<Store> st = Store::open(file, "a");
    open.push_back(st);
    auto x = st->root()->open_dataset("x");
    x->resize(Shape{300'000, 2});
    x->append(iota(DType::int64(), Shape{400'000, 2}, 600'000));
  });
  EXPECT_EQ(check_rows(), 700'000);
  {  // A writer that opens the array records the recovered state in its sidecar on close.
    auto st = Store::open(file, "a");
    st->root()->open_dataset("x");
    EXPECT_EQ(length_in_sidecar(file / "x.json"), 300'000);
    st->close();
  }
  EXPECT_EQ(length_in_sidecar(file / "x.json"), 700'000);
  EXPECT_EQ(check_rows(), 700'000);
}

TEST_F(MmapCommits, RecoveredChecksumsAreVerified) {
  append_and_die(600'000);  // block 0 is full; its checksum is only in x.sums
  {
    std::fstream f(file / "x.bin", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(1000);
    f.put('\x7f');
  }
  std::string why;
  EXPECT_EQ(error_of([&] { check_rows(); }, &why), ErrorCode::corrupt);
  EXPECT_TRUE(mentions(why, "checksum mismatch in"));
  EXPECT_TRUE(mentions(why, "block 0"));
}

TEST_F(MmapCommits, ATornSlotGivesThePreviousCommit) {
  append_and_die(1000, 300);  // commits of 300, 600, 900 and 1000 rows
  damage_latest_slot();
  EXPECT_EQ(check_rows(), 900);
  damage_latest_slot();  // now both slots
  const Error e = open_error();
  EXPECT_EQ(e.code(), ErrorCode::corrupt);
  EXPECT_TRUE(mentions(e.what(), "neither slot of"));
  EXPECT_TRUE(mentions(e.what(), "x.commit"));
}

TEST_F(MmapCommits, ACommitBeyondTheDataFileIsCorrupt) {
  append_and_die(1000);
  const auto data_bytes = std::filesystem::file_size(file / "x.bin");
  auto bytes = slurp(file / "x.commit");
  const auto latest = mmap::parse_commit_file(std::as_bytes(std::span(bytes)));
  ASSERT_TRUE(latest);
  auto forged = *latest;
  forged.sequence += 1;
  forged.rows = data_bytes / 16 + 1;
  forged.full_blocks = forged.rows * 16 / mmap::kDefaultBlockBytes;
  const auto slot = mmap::format_commit_slot(forged);
  bytes.replace(mmap::commit_slot_offset(forged.sequence), slot.size(),
                reinterpret_cast<const char*>(slot.data()), slot.size());
  spit(file / "x.commit", bytes);
  const Error e = open_error();
  EXPECT_EQ(e.code(), ErrorCode::corrupt);
  EXPECT_TRUE(mentions(e.file(), "x.commit"));
  EXPECT_TRUE(mentions(e.message(), "the data file is truncated"));
}

TEST_F(MmapCommits, MissingOrShortCommitAndSumFilesAreCorrupt) {
  append_and_die(600'000);
  const std::string sums = slurp(file / "x.sums");
  std::filesystem::resize_file(file / "x.sums", 4);
  Error e = open_error();
  EXPECT_EQ(e.code(), ErrorCode::corrupt);
  EXPECT_TRUE(mentions(e.file(), "x.sums"));
  spit(file / "x.sums", sums);
  std::filesystem::remove(file / "x.commit");
  e = open_error();
  EXPECT_EQ(e.code(), ErrorCode::corrupt);
  EXPECT_TRUE(mentions(e.what(), "x.commit"));
}

TEST_F(MmapCommits, ASidecarAndCommitFileThatDisagreeOnOneCommitAreCorrupt) {
  append_and_die(1000);
  {
    auto st = Store::open(file, "a");
    st->root()->open_dataset("x");
  }  // the sidecar now records the last commit too
  nlohmann::json doc = nlohmann::json::parse(slurp(file / "x.json"));
  const std::string bin = slurp(file / "x.bin");
  doc["shape"][0] = doc["length"] = 500;
  doc["checksum"]["blocks"] = {hex64(xxh3_64(std::string_view(bin).substr(0, 500 * 16)))};
  spit(file / "x.json", doc.dump());
  const Error e = open_error();
  EXPECT_EQ(e.code(), ErrorCode::corrupt);
  EXPECT_TRUE(mentions(e.what(), "both record commit"));
}

TEST_F(MmapCommits, AppendingAfterTheLastBlockChangedIsRefused) {
  append_and_die(1000);
  {
    std::fstream f(file / "x.bin", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(8000);
    f.put('\x7f');
  }
  auto st = Store::open(file, "a");
  auto x = st->root()->open_dataset("x");
  std::string why;
  EXPECT_EQ(error_of(
                [&] {
                  x->append(iota(DType::int64(), Shape{1, 2}, 2000));
                },
                &why),
            ErrorCode::corrupt);
  EXPECT_TRUE(mentions(why, "nothing is appended to a damaged block"));
  EXPECT_EQ(x->rows(), 1000);
}

TEST_F(MmapCommits, Version1StoresOpenAndTurnVersion2WhenChanged) {
  // A version 1 array as larder 0.x wrote it: NAME.bin and its sidecar.
  std::filesystem::remove(file / "x.commit");
  std::filesystem::remove(file / "x.sums");
  const Array rows = iota(DType::int64(), Shape{1000, 2});
  spit(file / "x.bin", std::string(reinterpret_cast<const char*>(rows.data()), rows.nbytes()));
  nlohmann::json doc = nlohmann::json::parse(slurp(file / "x.json"));
  doc["version"] = 1;
  doc.erase("commit_sequence");
  doc["shape"] = {1000, 2};
  doc["length"] = 1000;
  doc["checksum"]["blocks"] = {hex64(xxh3_64(std::span(rows.data(), rows.nbytes())))};
  spit(file / "x.json", doc.dump());
  spit(file / "x.commit", std::string(128, 'z'));  // a stray commit file means nothing to it
  EXPECT_EQ(check_rows(), 1000);
  {
    auto st = Store::open(file, "a");
    auto x = st->root()->open_dataset("x");
    x->append(iota(DType::int64(), Shape{500, 2}, 2000));
    // Its first commit made it version 2: a reader now follows the commit file.
    EXPECT_EQ(nlohmann::json::parse(slurp(file / "x.json"))["version"], 2);
    auto reader = Store::open(file, "r");
    auto seen = reader->root()->open_dataset("x");
    x->append(iota(DType::int64(), Shape{500, 2}, 3000));
    EXPECT_EQ(seen->rows(), 2000);
  }
  EXPECT_EQ(check_rows(), 2000);
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
