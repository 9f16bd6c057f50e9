// Crash-safe appends on the HDF5 driver: a writer that dies without closing
// (here: a child that _Exit()s, which leaves the file exactly as kill -9
// would) loses no acknowledged row, even when libhdf5's chunk index is torn.
// The randomized kill -9 trials are tests/crash.
#include <gtest/gtest.h>
#include <hdf5.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "larder/core/array.h"
#include "larder/store/store.h"
#include "store/temp_dir.h"

namespace larder::store {
namespace {

using testing::TempDir;

constexpr std::int64_t kColumns = 4;

std::int64_t value(std::int64_t row, std::int64_t column) {
  return row * 10 + column + 1;
}

Array rows_from(std::int64_t first, std::int64_t n) {
  Array a = Array::empty(DType::int64(), Shape{n, kColumns});
  auto v = a.values<std::int64_t>();
  for (std::int64_t r = 0; r < n; ++r)
    for (std::int64_t c = 0; c < kColumns; ++c)
      v[static_cast<std::size_t>(r * kColumns + c)] = value(first + r, c);
  return a;
}

// In a child: creates /x (chunks of 16 rows), appends `total` rows in
// uneven batches, optionally flushing half way, and dies without closing.
void write_and_die(const std::filesystem::path& file, std::int64_t total, bool flush_half_way,
                   bool flush_at_end = false) {
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    try {
      auto store = Store::open(file, std::filesystem::exists(file) ? "a" : "w");
      auto x = store->root()->create_dataset("x", {.dtype = DType::int64(),
                                                   .shape = Shape{0, kColumns},
                                                   .chunks = {16, kColumns},
                                                   .codec = {.id = "lz4"},
                                                   .extendable = true});
      x->attrs().set("units", nlohmann::json("m"));
      std::int64_t rows = 0;
      for (std::int64_t n = 1; rows < total; n = n % 37 + 5) {
        n = std::min(n, total - rows);
        x->append(rows_from(rows, n));
        rows += n;
        if (flush_half_way && rows >= total / 2 && rows - n < total / 2) store->flush();
      }
      if (flush_at_end) store->flush();
      std::_Exit(0);  // nothing closed: the file holds what kill -9 would leave
    } catch (...) {
      std::_Exit(2);
    }
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

void expect_rows(const std::filesystem::path& file, std::int64_t total) {
  auto store = Store::open(file, "r");
  auto x = store->root()->open_dataset("x");
  ASSERT_EQ(x->shape(), (Shape{total, kColumns}));
  const Array all = x->read();
  const auto v = all.values<std::int64_t>();
  for (std::int64_t r = 0; r < total; ++r)
    for (std::int64_t c = 0; c < kColumns; ++c)
      ASSERT_EQ(v[static_cast<std::size_t>(r * kColumns + c)], value(r, c)) << "row " << r;
}

// What libhdf5 alone (as h5py would) reads from /x.
std::vector<std::int64_t> read_with_libhdf5(const std::filesystem::path& file, std::int64_t& rows) {
  const hid_t f = H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  EXPECT_GE(f, 0);
  const hid_t d = H5Dopen2(f, "x", H5P_DEFAULT);
  const hid_t space = H5Dget_space(d);
  hsize_t dims[2] = {0, 0};
  H5Sget_simple_extent_dims(space, dims, nullptr);
  rows = static_cast<std::int64_t>(dims[0]);
  std::vector<std::int64_t> out(dims[0] * dims[1]);
  EXPECT_GE(H5Dread(d, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()), 0);
  H5Sclose(space);
  H5Dclose(d);
  H5Fclose(f);
  return out;
}

// Overwrites the signature of every chunk-index B-tree node: libhdf5 can
// then follow none of them, as after the worst torn flush.
int tear_chunk_index(const std::filesystem::path& file) {
  std::fstream io(file, std::ios::in | std::ios::out | std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(io)), std::istreambuf_iterator<char>());
  int torn = 0;
  for (std::size_t at = bytes.find("TREE"); at != std::string::npos;
       at = bytes.find("TREE", at + 4)) {
    if (at + 4 < bytes.size() && bytes[at + 4] == 1) {  // node type 1: raw data chunks
      io.seekp(static_cast<std::streamoff>(at));
      io.write("XXXX", 4);
      ++torn;
    }
  }
  return torn;
}

TEST(Hdf5Journal, AKilledWriterLosesNoAcknowledgedRow) {
  TempDir dir;
  const auto file = dir / "a.h5";
  write_and_die(file, 5000, false);
  expect_rows(file, 5000);  // read-only: from the journal where libhdf5's view lags
  {
    auto store = Store::open(file, "a");  // repairs libhdf5's view
    EXPECT_EQ(store->root()->open_dataset("x")->shape(), (Shape{5000, kColumns}));
  }
  std::int64_t rows = 0;
  const auto v = read_with_libhdf5(file, rows);
  ASSERT_EQ(rows, 5000);
  for (std::int64_t r = 0; r < rows; ++r)
    ASSERT_EQ(v[static_cast<std::size_t>(r * kColumns + 3)], value(r, 3)) << "row " << r;
  expect_rows(file, 5000);
}

TEST(Hdf5Journal, ATornChunkIndexIsRebuiltFromTheJournal) {
  TempDir dir;
  const auto file = dir / "a.h5";
  write_and_die(file, 3000, true);
  ASSERT_GT(tear_chunk_index(file), 0);
  expect_rows(file, 3000);  // every chunk found through the journal
  {
    auto store = Store::open(file, "r+");  // the index cannot take chunks back: rebuilt
    auto root = store->root();
    EXPECT_EQ(root->members().size(), 1u);  // the damaged copy is set aside, hidden
    EXPECT_EQ(root->open_dataset("x")->attrs().get_json("units"), nlohmann::json("m"));
    root->open_dataset("x")->append(rows_from(3000, 10));
  }
  expect_rows(file, 3010);
  std::int64_t rows = 0;
  const auto v = read_with_libhdf5(file, rows);
  ASSERT_EQ(rows, 3010);
  for (std::int64_t r = 0; r < rows; ++r)
    ASSERT_EQ(v[static_cast<std::size_t>(r * kColumns)], value(r, 0)) << "row " << r;
}

TEST(Hdf5Journal, RecoveryFindsChunksPastAUserBlock) {
  TempDir dir;
  const auto file = dir / "a.h5";
  {  // libhdf5's chunk addresses leave the user block out; file offsets do not
    const hid_t fcpl = H5Pcreate(H5P_FILE_CREATE);
    H5Pset_userblock(fcpl, 1024);
    const hid_t f = H5Fcreate(file.c_str(), H5F_ACC_TRUNC, fcpl, H5P_DEFAULT);
    ASSERT_GE(f, 0);
    H5Fclose(f);
    H5Pclose(fcpl);
  }
  write_and_die(file, 2000, true);
  ASSERT_GT(tear_chunk_index(file), 0);
  expect_rows(file, 2000);
  { auto store = Store::open(file, "a"); }
  std::int64_t rows = 0;
  const auto v = read_with_libhdf5(file, rows);
  ASSERT_EQ(rows, 2000);
  for (std::int64_t r = 0; r < rows; ++r)
    ASSERT_EQ(v[static_cast<std::size_t>(r * kColumns + 2)], value(r, 2)) << "row " << r;
}

TEST(Hdf5Journal, HandlesToOneDatasetShareItsAppends) {
  TempDir dir;
  auto store = Store::open(dir / "a.h5", "w");
  auto a = store->root()->create_dataset(
      "x", {.dtype = DType::int64(), .shape = Shape{0, kColumns}, .extendable = true});
  auto b = store->root()->open_dataset("x");
  a->append(rows_from(0, 10));
  b->append(rows_from(10, 5));
  EXPECT_EQ(a->shape(), (Shape{15, kColumns}));
  EXPECT_EQ(b->read().values<std::int64_t>()[14 * kColumns], value(14, 0));
}

TEST(Hdf5Journal, AFlushLeavesLibhdf5AWholeView) {
  TempDir dir;
  const auto file = dir / "a.h5";
  write_and_die(file, 1001, false, true);  // ends with a partial chunk
  std::int64_t rows = 0;
  const auto v = read_with_libhdf5(file, rows);
  ASSERT_EQ(rows, 1001);
  for (std::int64_t r = 0; r < rows; ++r)
    ASSERT_EQ(v[static_cast<std::size_t>(r * kColumns + 1)], value(r, 1)) << "row " << r;
}

}  // namespace
}  // namespace larder::store
