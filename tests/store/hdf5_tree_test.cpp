// larder's own reading of HDF5 files (store/hdf5_tree.h), checked against
// the HDF5 driver (libhdf5) on the same files: what it reads must be equal,
// and what it does not read must be left to libhdf5 (std::nullopt).
#include "larder/store/hdf5_tree.h"

#include <gtest/gtest.h>
#include <hdf5.h>

#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <numeric>
#include <optional>

#include "larder/store/store.h"
#include "temp_dir.h"

namespace larder::store {
namespace {

using larder::testing::TempDir;

// The same tree, read through the HDF5 driver.
Hdf5TreeNode reference(Group& group) {
  Hdf5TreeNode node;
  for (const auto& name : group.attrs().names())
    node.attrs.emplace_back(name, group.attrs().get_json(name));
  for (const auto& member : group.members()) {
    Hdf5TreeNode child;
    if (member.kind == NodeKind::group) {
      child = reference(*group.open_group(member.name));
    } else {
      auto dataset = group.open_dataset(member.name);
      child.kind = NodeKind::dataset;
      for (const auto& name : dataset->attrs().names())
        child.attrs.emplace_back(name, dataset->attrs().get_json(name));
      child.dtype = dataset->dtype();
      child.shape = dataset->shape();
      if (child.dtype.kind() == DTypeKind::string || child.dtype.kind() == DTypeKind::vstring) {
        child.strings = dataset->read_strings(Selection());
      } else {
        child.data = dataset->read();
      }
    }
    child.name = member.name;
    node.members.push_back(std::move(child));
  }
  return node;
}

void expect_same(const Hdf5TreeNode& ours, const Hdf5TreeNode& theirs, const std::string& path) {
  SCOPED_TRACE(path);
  EXPECT_EQ(ours.name, theirs.name);
  ASSERT_EQ(ours.kind, theirs.kind);
  ASSERT_EQ(ours.attrs.size(), theirs.attrs.size());
  for (std::size_t i = 0; i < ours.attrs.size(); ++i) {
    EXPECT_EQ(ours.attrs[i].first, theirs.attrs[i].first);
    EXPECT_EQ(ours.attrs[i].second, theirs.attrs[i].second) << ours.attrs[i].first;
    EXPECT_EQ(ours.attrs[i].second.type(), theirs.attrs[i].second.type()) << ours.attrs[i].first;
  }
  if (ours.kind == NodeKind::dataset) {
    EXPECT_EQ(ours.dtype, theirs.dtype);
    EXPECT_EQ(ours.shape, theirs.shape);
    EXPECT_EQ(ours.strings, theirs.strings);
    ASSERT_EQ(ours.data.has_value(), theirs.data.has_value());
    if (ours.data) {
      ASSERT_EQ(ours.data->nbytes(), theirs.data->nbytes());
      EXPECT_EQ(std::memcmp(ours.data->data(), theirs.data->data(), ours.data->nbytes()), 0);
    }
    return;
  }
  ASSERT_EQ(ours.members.size(), theirs.members.size());
  for (std::size_t i = 0; i < ours.members.size(); ++i)
    expect_same(ours.members[i], theirs.members[i], join_path(path, ours.members[i].name));
}

// Read whole, and piece by piece as a large file is.
void expect_same_as_libhdf5(const std::filesystem::path& file) {
  auto store = Store::open(file, "r");
  const Hdf5TreeNode theirs = reference(*store->root());
  for (const std::uint64_t whole : {std::uint64_t{1} << 30, std::uint64_t{0}}) {
    const auto ours = read_hdf5_tree(file, {.whole_file_bytes = whole});
    ASSERT_TRUE(ours.has_value()) << file;
    expect_same(*ours, theirs, "/");
  }
}

template <class T>
Array values(std::initializer_list<T> list) {
  return Array::from_values<T>(std::vector<T>(list));
}

TEST(Hdf5Tree, ReadsWhatTheDriverReads) {
  TempDir dir;
  const auto file = dir / "all.h5";
  {
    auto store = Store::open(file, "w");
    auto root = store->root();
    root->attrs().set("count", 3);
    root->attrs().set("big", nlohmann::json(std::uint64_t{1} << 63));
    root->attrs().set("ratio", 0.25);
    root->attrs().set("flag", true);
    root->attrs().set("label", "sweep \xc3\xa9");
    root->attrs().set("ints", nlohmann::json{1, -2, 3});
    root->attrs().set("floats", nlohmann::json{0.5, 1.5});
    root->attrs().set("names", nlohmann::json{"a", "bb", ""});
    root->attrs().set("config", nlohmann::json{{"seed", 4}, {"tags", {"x", 1}}});
    root->attrs().set("half", values<std::uint16_t>({0x3c00, 0xc000}));  // as u2
    root->attrs().set("matrix",
                      Array::from_values<std::int16_t>(std::vector<std::int16_t>{1, 2, 3, 4, 5, 6})
                          .reshaped(Shape{2, 3}));
    root->attrs().set("one_float", Array::zeros(DType::float32(), Shape{}));

    auto data = root->require_group("data");
    data->attrs().set("content", "time_series");
    data->create_dataset_from("f8", {.dtype = DType::float64(), .shape = Shape{4}},
                              values<double>({0.0, -1.5, 2.25, 1e300}));
    data->create_dataset_from("f4", {.dtype = DType::float32(), .shape = Shape{2, 3}},
                              values<float>({1, 2, 3, 4, 5, 6}).reshaped(Shape{2, 3}));
    data->create_dataset_from("f2", {.dtype = DType::float16(), .shape = Shape{2}},
                              Array::zeros(DType::float16(), Shape{2}));
    data->create_dataset_from("i1", {.dtype = DType::int8(), .shape = Shape{3}},
                              values<std::int8_t>({-128, 0, 127}));
    data->create_dataset_from("u8", {.dtype = DType::uint64(), .shape = Shape{1}},
                              values<std::uint64_t>({~std::uint64_t{0}}));
    Array flags = Array::zeros(DType::boolean(), Shape{3});
    flags.data()[1] = std::byte{1};
    data->create_dataset_from("flags", {.dtype = DType::boolean(), .shape = Shape{3}}, flags);
    data->create_dataset_from("scalar", {.dtype = DType::float64(), .shape = Shape{}},
                              Array::zeros(DType::float64(), Shape{}));
    data->create_dataset_from("empty", {.dtype = DType::int32(), .shape = Shape{0}},
                              Array::zeros(DType::int32(), Shape{0}));
    auto words = data->create_dataset("words", {.dtype = DType::vstring(), .shape = Shape{3}});
    words->write_strings(Selection(), {"alpha", "",
                                       "\xce\xb2"
                                       "eta"});
    words->attrs().set("units", "none");
    auto fixed = data->create_dataset("fixed", {.dtype = DType::string(5), .shape = Shape{2}});
    fixed->write_strings(Selection(), {"abc", "hello"});
    auto title = data->create_dataset("title", {.dtype = DType::vstring(), .shape = Shape{}});
    title->write_strings(Selection(), {"a scalar string"});
    root->require_group("a/b/c")->attrs().set("depth", 3);
    store->close();
  }
  expect_same_as_libhdf5(file);
}

TEST(Hdf5Tree, ManyMembersAndStrings) {
  // Enough members for several symbol table nodes under a two-level B-tree,
  // and strings over several global heap collections.
  TempDir dir;
  const auto file = dir / "many.h5";
  {
    auto store = Store::open(file, "w");
    auto root = store->root();
    for (int i = 0; i < 400; ++i) {
      root->create_dataset_from("g/x" + std::to_string(i),
                                {.dtype = DType::int32(), .shape = Shape{1}},
                                values<std::int32_t>({i}));
    }
    std::vector<std::string> many;
    for (int i = 0; i < 3000; ++i)
      many.push_back(
          std::string(static_cast<std::size_t>(i % 97), static_cast<char>('a' + i % 26)));
    root->create_dataset("strings", {.dtype = DType::vstring(), .shape = Shape{3000}})
        ->write_strings(Selection(), many);
    store->close();
  }
  expect_same_as_libhdf5(file);
  const auto tree = read_hdf5_tree(file, {.numbers = false});
  ASSERT_TRUE(tree);
  ASSERT_EQ(tree->members.size(), 2U);
  EXPECT_EQ(tree->members[0].members.size(), 400U);
  EXPECT_FALSE(tree->members[0].members[0].data.has_value());  // numbers not asked for
  EXPECT_EQ(tree->members[1].strings.size(), 3000U);
}

// Writes groups, datasets and attributes with libhdf5 itself, in the file
// format `fapl` and `fcpl` ask for, with `links` datasets in /many. The
// groups track creation order when the root does (h5py's track_order=True).
void write_with_libhdf5(const std::filesystem::path& file, hid_t fcpl, hid_t fapl, int links) {
  const hid_t f = H5Fcreate(file.c_str(), H5F_ACC_TRUNC, fcpl, fapl);
  const hid_t gcpl = H5Pcreate(H5P_GROUP_CREATE);
  const hid_t created = H5Fget_create_plist(f);
  unsigned order = 0;
  ASSERT_GE(H5Pget_link_creation_order(created, &order), 0);
  H5Pset_link_creation_order(gcpl, order);
  ASSERT_GE(H5Pget_attr_creation_order(created, &order), 0);
  H5Pset_attr_creation_order(gcpl, order);
  H5Pclose(created);
  const hid_t g = H5Gcreate2(f, "run", H5P_DEFAULT, gcpl, H5P_DEFAULT);
  const hid_t many = H5Gcreate2(f, "many", H5P_DEFAULT, gcpl, H5P_DEFAULT);
  const hsize_t n = 4;
  const hid_t space = H5Screate_simple(1, &n, nullptr);
  const hid_t scalar = H5Screate(H5S_SCALAR);
  const double values[4] = {0.5, -1, 2, 1e300};
  for (const char* name : {"b", "a"}) {
    const hid_t d =
        H5Dcreate2(g, name, H5T_IEEE_F64LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values);
    const std::int32_t step = 7;
    const hid_t a = H5Acreate2(d, "step", H5T_STD_I32LE, scalar, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, H5T_NATIVE_INT32, &step);
    H5Aclose(a);
    H5Dclose(d);
  }
  for (int i = 0; i < links; ++i) {
    const std::string name = "x" + std::to_string(i);
    const hid_t d =
        H5Dcreate2(many, name.c_str(), H5T_STD_I8LE, scalar, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    const auto value = static_cast<std::int8_t>(i);
    H5Dwrite(d, H5T_NATIVE_INT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, &value);
    H5Dclose(d);
  }
  const hid_t text = H5Tcopy(H5T_C_S1);
  H5Tset_size(text, H5T_VARIABLE);
  H5Tset_cset(text, H5T_CSET_UTF8);
  const char* words[2] = {"time_series", "z"};
  for (const char* attr : {"content", "b_note"}) {
    const hid_t a = H5Acreate2(g, attr, text, scalar, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, text, attr[0] == 'c' ? &words[0] : &words[1]);
    H5Aclose(a);
  }
  H5Tclose(text);
  H5Sclose(scalar);
  H5Sclose(space);
  H5Gclose(many);
  H5Gclose(g);
  H5Pclose(gcpl);
  H5Fclose(f);
}

TEST(Hdf5Tree, ReadsPastAUserBlock) {
  // A 512-byte user block moves the superblock; addresses count from it.
  TempDir dir;
  const hid_t fcpl = H5Pcreate(H5P_FILE_CREATE);
  H5Pset_userblock(fcpl, 512);
  write_with_libhdf5(dir / "userblock.h5", fcpl, H5P_DEFAULT, 3);
  H5Pclose(fcpl);
  expect_same_as_libhdf5(dir / "userblock.h5");
}

TEST(Hdf5Tree, ReadsTheNewerFormatsOfCompactGroups) {
  // Superblock 3 with version 2 object headers (h5py's libver="latest"), and
  // the default superblock with creation order tracked (h5py's
  // track_order=True): link messages and version 2 headers.
  TempDir dir;
  const hid_t latest = H5Pcreate(H5P_FILE_ACCESS);
  H5Pset_libver_bounds(latest, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST);
  const hid_t tracked = H5Pcreate(H5P_FILE_CREATE);
  H5Pset_link_creation_order(tracked, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED);
  H5Pset_attr_creation_order(tracked, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED);
  write_with_libhdf5(dir / "latest.h5", H5P_DEFAULT, latest, 3);
  write_with_libhdf5(dir / "tracked.h5", tracked, H5P_DEFAULT, 3);
  expect_same_as_libhdf5(dir / "latest.h5");
  expect_same_as_libhdf5(dir / "tracked.h5");
  {  // the tracked groups are version 2 headers in a version 0 superblock
    std::ifstream in(dir / "tracked.h5", std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(in)), {});
    EXPECT_EQ(text[8], '\0');  // the superblock's version
    EXPECT_NE(text.find("OHDR", text.find("OHDR") + 1), std::string::npos);
  }
  // Version 2 headers carry checksums: a changed byte in one is declined
  // (libhdf5 then reports the mismatch), not read as a different value.
  {
    std::ifstream in(dir / "latest.h5", std::ios::binary);
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), {});
    const auto span = [&] { return std::as_bytes(std::span(bytes.data(), bytes.size())); };
    ASSERT_TRUE(parse_hdf5_tree(span()));
    const std::string_view text(bytes.data(), bytes.size());
    std::size_t headers = 0;
    for (auto at = text.find("OHDR"); at != std::string_view::npos;
         at = text.find("OHDR", at + 1)) {
      for (const std::size_t k : {6, 12, 20}) {
        bytes[at + k] = static_cast<char>(bytes[at + k] ^ 0x01);
        EXPECT_FALSE(parse_hdf5_tree(span())) << "header at " << at << ", byte " << k;
        bytes[at + k] = static_cast<char>(bytes[at + k] ^ 0x01);
      }
      ++headers;
    }
    EXPECT_GE(headers, 5U);  // the root, run, many and their datasets
  }
  // More links than a compact group holds (8 by default): a fractal heap
  // and a B-tree, left to libhdf5.
  write_with_libhdf5(dir / "dense.h5", H5P_DEFAULT, latest, 20);
  EXPECT_FALSE(read_hdf5_tree(dir / "dense.h5"));
  H5Pclose(tracked);
  H5Pclose(latest);
}

// Files larder's reader leaves to libhdf5.
TEST(Hdf5Tree, LeavesOtherLayoutsToLibhdf5) {
  TempDir dir;
  const auto write = [&](const std::string& name, const auto& make) {
    const auto file = dir / name;
    auto store = Store::open(file, "w");
    make(*store->root());
    store->close();
    return file;
  };
  const Array row = values<double>({1, 2, 3});
  EXPECT_FALSE(read_hdf5_tree(write("gzip.h5", [&](Group& g) {
    g.create_dataset_from("x", {.dtype = DType::float64(), .shape = Shape{3}, .codec = {"gzip"}},
                          row);
  })));
  EXPECT_FALSE(read_hdf5_tree(write("extendable.h5", [&](Group& g) {
    g.create_dataset("x", {.dtype = DType::float64(), .shape = Shape{0}, .extendable = true})
        ->append(row);
  })));
  EXPECT_FALSE(read_hdf5_tree(write("big_endian.h5", [&](Group& g) {
    g.create_dataset("x", {.dtype = DType::float64().big_endian(), .shape = Shape{3}});
  })));
  EXPECT_FALSE(read_hdf5_tree(write("complex.h5", [&](Group& g) {
    g.create_dataset("x", {.dtype = DType::complex64(), .shape = Shape{3}});
  })));

  // Soft links, in a symbol table and as a link message (newest format).
  const auto soft = dir / "soft.h5";
  const auto soft_latest = dir / "soft_latest.h5";
  {
    const hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST);
    for (const auto& [file, access] :
         {std::pair<std::filesystem::path, hid_t>{soft, H5P_DEFAULT},
          std::pair<std::filesystem::path, hid_t>{soft_latest, fapl}}) {
      const hid_t f = H5Fcreate(file.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, access);
      H5Gclose(H5Gcreate2(f, "g", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
      H5Lcreate_soft("/g", f, "link", H5P_DEFAULT, H5P_DEFAULT);
      H5Fclose(f);
    }
    H5Pclose(fapl);
  }
  EXPECT_FALSE(read_hdf5_tree(soft));
  EXPECT_FALSE(read_hdf5_tree(soft_latest));

  // An attribute with no elements whose JSON would still be 2**40 empty lists.
  const auto empty = dir / "empty_attribute.h5";
  {
    const hid_t f = H5Fcreate(empty.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    const hsize_t dims[2] = {hsize_t{1} << 40, 0};
    const hid_t space = H5Screate_simple(2, dims, nullptr);
    H5Aclose(H5Acreate2(f, "huge", H5T_STD_I32LE, space, H5P_DEFAULT, H5P_DEFAULT));
    H5Sclose(space);
    H5Fclose(f);
  }
  EXPECT_FALSE(read_hdf5_tree(empty));
  EXPECT_FALSE(read_hdf5_tree(dir / "missing.h5"));
  EXPECT_FALSE(read_hdf5_tree(dir.path()));  // a directory
}

TEST(Hdf5Tree, DamagedBytesAreDeclinedNotRead) {
  TempDir dir;
  const auto file = dir / "ok.h5";
  {
    auto store = Store::open(file, "w");
    store->root()->create_dataset_from("g/x", {.dtype = DType::float64(), .shape = Shape{3}},
                                       values<double>({1, 2, 3}));
    store->root()->open_group("g")->attrs().set("names", nlohmann::json{"a", "b"});
    store->close();
  }
  std::ifstream in(file, std::ios::binary);
  const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), {});
  const auto parse = [](const std::vector<char>& b) {
    return parse_hdf5_tree(std::as_bytes(std::span(b.data(), b.size())));
  };
  ASSERT_TRUE(parse(bytes));
  // Every truncation, and every single corrupted byte, parses or declines:
  // never a crash or a read past the end (ASan checks the latter).
  for (std::size_t n = 0; n < bytes.size(); n += 7) {
    const auto cut = parse(std::vector<char>(bytes.begin(), bytes.begin() + static_cast<long>(n)));
    if (n < 100) {
      EXPECT_FALSE(cut) << n;  // not even a whole superblock
    }
    if (cut) {
      EXPECT_EQ(cut->members.size(), 1U) << n;
    }
  }
  // The same, read piece by piece from a file, for a sample of the bytes.
  const auto damaged_file = dir / "damaged.h5";
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    auto damaged = bytes;
    damaged[i] = static_cast<char>(damaged[i] ^ 0x5a);
    const auto whole = parse(damaged);
    if (i % 5 != 0) continue;
    std::ofstream(damaged_file, std::ios::binary).write(damaged.data(), damaged.size());
    const auto pieces = read_hdf5_tree(damaged_file, {.whole_file_bytes = 0});
    EXPECT_EQ(whole.has_value(), pieces.has_value()) << i;
  }
}

// The address of the object header of `path`, as libhdf5 gives it.
std::uint64_t object_header(const std::filesystem::path& file, const char* path) {
  const hid_t f = H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  const hid_t o = H5Oopen(f, path, H5P_DEFAULT);
  H5O_info_t info;
  H5Oget_info2(o, &info, H5O_INFO_BASIC);
  H5Oclose(o);
  H5Fclose(f);
  return info.addr;
}

std::optional<Hdf5ChunkIndex> chunk_index(const std::filesystem::path& file, const char* path) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  auto index = read_hdf5_chunk_index(fd, object_header(file, path), 1 << 20);
  ::close(fd);
  return index;
}

// The chunk index read at once lists what libhdf5 finds for every chunk of
// the grid, and nothing else. Gives the number of chunks stored.
std::size_t expect_index_as_libhdf5(const std::filesystem::path& file, const char* path) {
  SCOPED_TRACE(path);
  const auto index = chunk_index(file, path);
  EXPECT_TRUE(index.has_value());
  if (!index) return 0;
  std::map<std::vector<std::uint64_t>, Hdf5StoredChunk> listed;
  for (const auto& c : index->chunks)
    listed.emplace(c.offset, c);
  EXPECT_EQ(listed.size(), index->chunks.size());  // no chunk twice

  const hid_t f = H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  const hid_t d = H5Dopen2(f, path, H5P_DEFAULT);
  const hid_t space = H5Dget_space(d);
  const hid_t dcpl = H5Dget_create_plist(d);
  const int rank = H5Sget_simple_extent_ndims(space);
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank)), chunk(dims.size());
  H5Sget_simple_extent_dims(space, dims.data(), nullptr);
  H5Pget_chunk(dcpl, rank, chunk.data());
  EXPECT_EQ(index->chunk_shape, std::vector<std::uint64_t>(chunk.begin(), chunk.end()));
  std::size_t stored = 0;
  std::vector<hsize_t> offset(dims.size(), 0);
  while (true) {
    unsigned mask = 0;
    haddr_t address = HADDR_UNDEF;
    hsize_t size = 0;
    EXPECT_GE(H5Dget_chunk_info_by_coord(d, offset.data(), &mask, &address, &size), 0);
    const auto it = listed.find(std::vector<std::uint64_t>(offset.begin(), offset.end()));
    if (address == HADDR_UNDEF) {
      EXPECT_TRUE(it == listed.end()) << offset[0];
    } else if (it == listed.end()) {
      ADD_FAILURE() << "chunk at " << offset[0] << " not listed";
    } else {
      ++stored;
      EXPECT_EQ(it->second.address, address);
      EXPECT_EQ(it->second.size, size);
      EXPECT_EQ(it->second.filter_mask, mask);
    }
    std::size_t a = dims.size();
    while (a-- > 0) {
      offset[a] += chunk[a];
      if (offset[a] < dims[a]) break;
      offset[a] = 0;
    }
    if (a == static_cast<std::size_t>(-1)) break;
  }
  EXPECT_EQ(stored, index->chunks.size());
  H5Pclose(dcpl);
  H5Sclose(space);
  H5Dclose(d);
  H5Fclose(f);
  return stored;
}

TEST(Hdf5ChunkIndex, ListsWhatLibhdf5Locates) {
  TempDir dir;
  const auto file = dir / "chunked.h5";
  std::vector<float> grid_values(10 * 7);
  std::iota(grid_values.begin(), grid_values.end(), 1.0F);
  std::vector<std::int32_t> many(10000);
  std::iota(many.begin(), many.end(), 0);
  {
    auto store = Store::open(file, "w");
    auto root = store->root();
    // Appended: full chunks and a partial last one.
    auto ext = root->create_dataset("ext", {.dtype = DType::float32(),
                                            .shape = Shape{0},
                                            .chunks = {100},
                                            .codec = {.id = "blosc-lz4", .level = 5},
                                            .extendable = true});
    ext->append(Array::from_values<float>(std::vector<float>(1050, 2.5F)));
    // Partial edge chunks on both axes, some chunks never written.
    auto grid = root->create_dataset("grid", {.dtype = DType::float32(),
                                              .shape = Shape{10, 7},
                                              .chunks = {3, 4},
                                              .codec = {.id = "gzip", .level = 1},
                                              .fill_value = -1});
    grid->write(
        Selection::parse("0:6, 0:4"),
        Array::from_values<float>(std::vector<float>(grid_values.begin(), grid_values.begin() + 24))
            .reshaped(Shape{6, 4}));
    grid->write(Selection::parse("9:10, 4:7"),
                Array::from_values<float>(std::vector<float>{7, 8, 9}).reshaped(Shape{1, 3}));
    // 5,000 chunks: a B-tree of several levels.
    root->create_dataset_from("many",
                              {.dtype = DType::int32(), .shape = Shape{10000}, .chunks = {2}},
                              Array::from_values<std::int32_t>(many));
    store->close();
  }
  EXPECT_EQ(expect_index_as_libhdf5(file, "ext"), 11U);
  EXPECT_EQ(expect_index_as_libhdf5(file, "grid"), 3U);
  EXPECT_EQ(expect_index_as_libhdf5(file, "many"), 5000U);
  // More chunks than allowed, and a dataset that is not chunked, are declined.
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  EXPECT_FALSE(read_hdf5_chunk_index(fd, object_header(file, "many"), 4999));
  EXPECT_TRUE(read_hdf5_chunk_index(fd, object_header(file, "many"), 5000));
  ::close(fd);

  // Read through a store opened for reading, which uses the index read at
  // once: the same values, fill where never written.
  auto store = Store::open(file, "r");
  auto grid = store->root()->open_dataset("grid")->read();
  const auto* g = reinterpret_cast<const float*>(grid.data());
  for (int r = 0; r < 10; ++r) {
    for (int c = 0; c < 7; ++c) {
      const float expected = r < 6 && c < 4     ? grid_values[static_cast<std::size_t>(r * 4 + c)]
                             : r == 9 && c >= 4 ? static_cast<float>(c + 3)
                                                : -1.0F;
      EXPECT_EQ(g[r * 7 + c], expected) << r << "," << c;
    }
  }
  auto read_many = store->root()->open_dataset("many")->read();
  EXPECT_EQ(std::memcmp(read_many.data(), many.data(), many.size() * 4), 0);
  auto tail = store->root()->open_dataset("ext")->read(Selection::parse("1000:1050"));
  EXPECT_EQ(tail.shape(), Shape{50});
  EXPECT_EQ(reinterpret_cast<const float*>(tail.data())[49], 2.5F);
}

TEST(Hdf5ChunkIndex, AfterAUserBlockAndNotInTheLatestFormat) {
  TempDir dir;
  const auto write = [](const std::filesystem::path& file, hid_t fcpl, hid_t fapl) {
    const hid_t f = H5Fcreate(file.c_str(), H5F_ACC_TRUNC, fcpl, fapl);
    const hsize_t dims = 1000, max = H5S_UNLIMITED, chunk = 64;
    const hid_t space = H5Screate_simple(1, &dims, &max);
    const hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 1, &chunk);
    H5Pset_shuffle(dcpl);
    H5Pset_deflate(dcpl, 4);
    const hid_t d = H5Dcreate2(f, "x", H5T_STD_I64LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    std::vector<std::int64_t> v(dims);
    std::iota(v.begin(), v.end(), 0);
    H5Dwrite(d, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data());
    H5Dclose(d);
    H5Pclose(dcpl);
    H5Sclose(space);
    H5Fclose(f);
  };
  const hid_t fcpl = H5Pcreate(H5P_FILE_CREATE);
  H5Pset_userblock(fcpl, 1024);
  write(dir / "userblock.h5", fcpl, H5P_DEFAULT);
  H5Pclose(fcpl);
  EXPECT_EQ(expect_index_as_libhdf5(dir / "userblock.h5", "x"), 16U);
  {
    auto store = Store::open(dir / "userblock.h5", "r");
    auto x = store->root()->open_dataset("x")->read();
    EXPECT_EQ(reinterpret_cast<const std::int64_t*>(x.data())[999], 999);
  }
  // libver="latest" indexes this dataset with an extensible array: left to
  // libhdf5's lookups.
  const hid_t latest = H5Pcreate(H5P_FILE_ACCESS);
  H5Pset_libver_bounds(latest, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST);
  write(dir / "latest.h5", H5P_DEFAULT, latest);
  H5Pclose(latest);
  EXPECT_FALSE(chunk_index(dir / "latest.h5", "x"));
  auto store = Store::open(dir / "latest.h5", "r");
  auto x = store->root()->open_dataset("x")->read();
  EXPECT_EQ(reinterpret_cast<const std::int64_t*>(x.data())[999], 999);
}

TEST(Hdf5ChunkIndex, DamagedBytesAreDeclinedNotRead) {
  TempDir dir;
  const auto file = dir / "small.h5";
  {
    auto store = Store::open(file, "w");
    store->root()->create_dataset_from(
        "x", {.dtype = DType::int16(), .shape = Shape{40}, .chunks = {4}},
        Array::from_values<std::int16_t>(std::vector<std::int16_t>(40, 3)));
    store->close();
  }
  const std::uint64_t header = object_header(file, "x");
  std::ifstream in(file, std::ios::binary);
  const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), {});
  const auto parse = [&](const std::vector<char>& b) {
    return parse_hdf5_chunk_index(std::as_bytes(std::span(b.data(), b.size())), header, 1000);
  };
  ASSERT_EQ(parse(bytes)->chunks.size(), 10U);
  for (std::size_t n = 0; n < bytes.size(); n += 5) {
    const auto cut = parse(std::vector<char>(bytes.begin(), bytes.begin() + static_cast<long>(n)));
    if (cut) {
      EXPECT_LE(cut->chunks.size(), 10U);
    }
  }
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    auto damaged = bytes;
    damaged[i] = static_cast<char>(damaged[i] ^ 0x5a);
    const auto index = parse(damaged);
    if (index) {
      EXPECT_LE(index->chunks.size(), 10U) << i;
    }
  }
}

}  // namespace
}  // namespace larder::store
