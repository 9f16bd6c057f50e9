// Writes a small seed corpus for every fuzz target into <dir>/<target>/:
// for the decoders, real encodings of a few buffers; for the parsers, a few
// valid texts. Usage: fuzz_make_seeds <dir>
#include <hdf5.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "../src/store/mmap/commit.h"
#include "decode_fuzzer.h"
#include "larder/core/selection.h"
#include "larder/store/npy.h"
#include "larder/store/store.h"
#include "larder/trace/tiff.h"

namespace {

namespace fs = std::filesystem;

void write(const fs::path& dir, int index, const void* data, std::size_t size) {
  fs::create_directories(dir);
  std::ofstream out(dir / ("seed-" + std::to_string(index)), std::ios::binary);
  out.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
}

std::vector<std::vector<std::byte>> sample_buffers() {
  std::mt19937 rng(1);
  std::vector<std::vector<std::byte>> buffers;
  buffers.emplace_back();
  buffers.emplace_back(1, std::byte{7});
  buffers.emplace_back(3000, std::byte{0});
  std::vector<std::byte> counting(4000);
  for (std::size_t i = 0; i < counting.size(); ++i)
    counting[i] = static_cast<std::byte>(i / 16);
  buffers.push_back(counting);
  std::vector<std::byte> noisy(9000);
  for (auto& b : noisy)
    b = static_cast<std::byte>(rng() % 8);
  buffers.push_back(noisy);
  return buffers;
}

void write_texts(const fs::path& dir, const std::vector<std::string>& texts) {
  int i = 0;
  for (const auto& t : texts)
    write(dir, i++, t.data(), t.size());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <corpus dir>\n", argv[0]);
    return 2;
  }
  const fs::path root = argv[1];
  const auto buffers = sample_buffers();
  for (const auto& target : larder::fuzz::decode_targets()) {
    const auto codec = larder::codec::make_codec(target.spec);
    int i = 0;
    for (const auto& buffer : buffers) {
      // bitshuffle encodes whole elements only: skip buffers that are not.
      const bool whole = buffer.size() % static_cast<std::size_t>(target.spec.typesize) == 0;
      if (target.spec.id == "bitshuffle" && !whole) continue;
      const auto seed = larder::fuzz::fuzz_input(buffer.size(), codec->encode(buffer));
      write(root / ("fuzz_decode_" + std::string(target.name)), i++, seed.data(), seed.size());
    }
  }
  write_texts(root / "fuzz_parse_codec_spec",
              {"blosc-lz4", "zstd:3", "blosc-zstd:5:bit", "lz4::none",
               R"({"id":"lz4","level":2,"format":"numcodecs","block_size":4096})",
               R"({"id":"blosc-lz4","shuffle":"byte","typesize":4})"});
  write_texts(root / "fuzz_parse_dtype",
              {"<f4", ">i8", "|b1", "|S10", "|O", "float32", "S3", "c16"});
  write_texts(root / "fuzz_parse_expr",
              {"nJets >= 6 & nBTags_77 >= 2", "(a > 0.5) & ((b < 0.2) | (c*c + d*d < 1.0))",
               "any(jet_pt > ht / 10) and not isnan(met)", "sum(jet_pt * (abs(jet_eta) < 2.5))",
               "\"jets/pt\"[-1] // 2 % 3 ** -1", "where(x != x, -inf, 1.5e-3) <= nan",
               "~(a | b) or len('a b') == 0"});
  write_texts(
      root / "fuzz_parse_trace_json",
      {R"({"format":"larder.trace","version":1,"code":"0042","seed":7,"groups":{"main":)"
       R"({"variables":{"x":{"kind":"array","dtype":"<f8","shape":[3],"nbytes":24,"hash":"ab"},)"
       R"("v":{"kind":"link","dtype":"<i2","shape":[],"nbytes":2,"hash":"cd","file":"/d.h5",)"
       R"("path":"a"}},"nodes":[{"id":1,"operation":"op","version":1,"params":{"k":[1,2]},)"
       R"("inputs":[{"name":"x","hash":"ab"}],"outputs":[{"name":"y","hash":""}],)"
       R"("started":"2026-01-01T00:00:00.000Z","finished":"","status":"running"}],"next_id":2}}})",
       R"({"format":"larder.trace","version":1,"code":"1","seed":0,"groups":{}})",
       R"({"format":"larder.trace","version":2,"code":"1","seed":0,"groups":{}})"});
  write_texts(root / "fuzz_tree_load_config",
              {"sim_data:\n  loader: hdf5\n  glob_str: sim_*/data.h5\n  required: true\n"
               "  path_regex: sim_(\\d+)/data.h5\n  target_path: simulations/{match:}/data\n"
               "  enable_mapping: true\n  map_from_attr: content\n  parallel: true\n",
               "pspace:\n  loader: yaml_to_object\n  glob_str: pspace.yml\n  load_as_attr: true\n"
               "  unpack_data: true\n  target_path: simulations\n",
               "logs:\n  loader: text\n  glob_str: [a/*.log, '**/*.txt']\n  target_group: g\n"
               "  exists_action: skip\n  parallel: {enabled: true, processes: -1}\n",
               "x:\n  loader: json\n  glob_str: '*.json'\n  path_regex: (?P<n>\\w+)\\.(\\w+)\n"
               "  target_path: '{named[n]}/{groups[1]:>04}/{relpath_cleaned}{{}}'\n"});
  {
    // Byte 0 picks the reader (0 npy, 1 npz, 2 csv, 3 csv with text; see the fuzzer).
    const larder::Array a = larder::Array::from_values<double>(std::vector<double>{1.5, -2, 3});
    const std::vector<std::byte> npy = larder::store::encode_npy(a);
    std::vector<std::uint8_t> seed{0};
    for (const std::byte b : npy)
      seed.push_back(std::to_integer<std::uint8_t>(b));
    write(root / "fuzz_parse_files", 0, seed.data(), seed.size());
    const std::string csv = std::string(1, '\2') + ",n,x\n0,1,\"2.5\"\n1,,nan\n";
    write(root / "fuzz_parse_files", 1, csv.data(), csv.size());
    const std::string text = std::string(1, '\3') + "name,n\nalpha,1\n\"b, \"\"c\"\"\",2\n";
    write(root / "fuzz_parse_files", 2, text.data(), text.size());
  }
  {
    // TIFF stacks as libtiff writes them: raw and deflated strips.
    const fs::path scratch = root / "tiff-scratch.tif";
    std::vector<std::uint16_t> pixels(2 * 8 * 8);
    for (std::size_t i = 0; i < pixels.size(); ++i)
      pixels[i] = static_cast<std::uint16_t>(i * 7);
    const larder::Array stack =
        larder::Array::from_values<std::uint16_t>(pixels).reshaped(larder::Shape{2, 8, 8});
    for (int deflate = 0; deflate < 2; ++deflate) {
      larder::trace::write_tiff(scratch, stack, deflate == 1);
      std::ifstream in(scratch, std::ios::binary);
      const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), {});
      write(root / "fuzz_decode_tiff", deflate, bytes.data(), bytes.size());
    }
    fs::remove(scratch);
  }
  {
    // HDF5 files as libhdf5 writes them through larder's driver: groups,
    // attributes of each kind, numeric, boolean and string datasets.
    const fs::path scratch = root / "hdf5-scratch.h5";
    for (int variant = 0; variant < 2; ++variant) {
      {
        auto store = larder::store::Store::open(scratch, "w");
        auto group = store->root()->require_group(variant == 0 ? "g" : "a/b");
        group->attrs().set("content", "time_series");
        group->attrs().set("sizes", nlohmann::json{1, 2});
        group->attrs().set("config", nlohmann::json{{"k", "v"}});
        group->create_dataset_from("x",
                                   {.dtype = larder::DType::float32(), .shape = larder::Shape{3}},
                                   larder::Array::from_values<float>(std::vector<float>{1, 2, 3}));
        group->create_dataset("s", {.dtype = larder::DType::vstring(), .shape = larder::Shape{2}})
            ->write_strings(larder::Selection(), {"ab", "c"});
        if (variant == 1) {
          group->create_dataset("f", {.dtype = larder::DType::string(4), .shape = larder::Shape{1}})
              ->write_strings(larder::Selection(), {"abcd"});
          group->create_dataset_from(
              "b", {.dtype = larder::DType::boolean(), .shape = larder::Shape{}},
              larder::Array::zeros(larder::DType::boolean(), larder::Shape{}));
        }
        store->close();
      }
      std::ifstream in(scratch, std::ios::binary);
      const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), {});
      write(root / "fuzz_parse_hdf5_tree", variant, bytes.data(), bytes.size());
    }
    // The newest format (superblock 3, version 2 object headers, link
    // messages), written with libhdf5 itself.
    {
      const hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
      H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST);
      const hid_t f = H5Fcreate(scratch.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
      const hid_t g = H5Gcreate2(f, "g", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
      const hsize_t n = 3;
      const hid_t space = H5Screate_simple(1, &n, nullptr);
      const hid_t d =
          H5Dcreate2(g, "x", H5T_IEEE_F64LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
      const double values[3] = {1, 2, 3};
      H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values);
      const hid_t scalar = H5Screate(H5S_SCALAR);
      const hid_t text = H5Tcopy(H5T_C_S1);
      H5Tset_size(text, H5T_VARIABLE);
      const char* word = "time_series";
      const hid_t a = H5Acreate2(g, "content", text, scalar, H5P_DEFAULT, H5P_DEFAULT);
      H5Awrite(a, text, &word);
      H5Aclose(a);
      H5Tclose(text);
      H5Sclose(scalar);
      H5Dclose(d);
      H5Sclose(space);
      H5Gclose(g);
      H5Fclose(f);
      H5Pclose(fapl);
      std::ifstream in(scratch, std::ios::binary);
      const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), {});
      write(root / "fuzz_parse_hdf5_tree", 2, bytes.data(), bytes.size());
    }
    // Chunked datasets (a blosc one with an appended partial chunk, a 2-D
    // one with chunks never written), followed by the address of the
    // object header whose chunk index the fuzzer reads.
    for (int variant = 3; variant < 5; ++variant) {
      {
        auto store = larder::store::Store::open(scratch, "w");
        auto root_group = store->root();
        auto ext = root_group->create_dataset("ext", {.dtype = larder::DType::float32(),
                                                      .shape = larder::Shape{0},
                                                      .chunks = {8},
                                                      .codec = {.id = "blosc-lz4", .level = 5},
                                                      .extendable = true});
        ext->append(larder::Array::from_values<float>(std::vector<float>(700, 1.5F)));
        auto grid = root_group->create_dataset(
            "grid",
            {.dtype = larder::DType::int16(), .shape = larder::Shape{6, 5}, .chunks = {2, 2}});
        grid->write(larder::Selection::parse("0:3, 1:4"),
                    larder::Array::zeros(larder::DType::int16(), larder::Shape{3, 3}));
        store->close();
      }
      const hid_t f = H5Fopen(scratch.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
      const hid_t o = H5Oopen(f, variant == 3 ? "ext" : "grid", H5P_DEFAULT);
      H5O_info_t info;
      H5Oget_info2(o, &info, H5O_INFO_BASIC);
      H5Oclose(o);
      H5Fclose(f);
      std::ifstream in(scratch, std::ios::binary);
      std::vector<char> bytes((std::istreambuf_iterator<char>(in)), {});
      const std::uint64_t address = info.addr;
      const auto* raw = reinterpret_cast<const char*>(&address);
      bytes.insert(bytes.end(), raw, raw + sizeof address);
      write(root / "fuzz_parse_hdf5_tree", variant, bytes.data(), bytes.size());
    }
    fs::remove(scratch);
  }
  write_texts(root / "fuzz_parse_yaml",
              {"parameter_space: !pspace\n  seed: !pdim {default: 0, range: [3]}\n"
               "  model:\n    lr: !sweep\n      default: 0.1\n      logspace: [-3, -1, 3]\n"
               "    tag: !coupled-pdim {target_name: seed, values: [a, b, c]}\n",
               "params: !!omap\n  - b: 1\n  - a: [x, 'y', \"z\"]\nflags: !!set {p, q}\n",
               "base: &b {x: 1, y: .inf}\nuse: *b\nmerged:\n  <<: [*b]\n  y: 0x1F\n"
               "text: |\n  two\n  lines\n",
               // Review regressions: a plain mapping of a tagged node's shape,
               // a key of more digits than 64 bits hold, a coupled target
               // whose name is another dim's path.
               "{\"!tag\": \"!pdim\", value: 3}\n",
               "!pspace\n\"123456789012345678901234567890\": !pdim {default: 0, values: [1]}\n"
               "\"9\": !pdim {default: 0, values: [2]}\n",
               "!pspace\nq: !pdim {name: p, default: 0, values: [1, 2]}\n"
               "p: !pdim {default: 0, values: [10, 20, 30]}\n"
               "c: !coupled-pdim {target_name: p, values: [a, b]}\n"});
  write_texts(root / "fuzz_parse_selection",
              {"10:20, ::2", "[5, 1, 5]", "3, ...", "::-1", "-3:, 1", ":, [0, 2], 1:2"});
  write_texts(
      root / "fuzz_parse_mmap_sidecar",
      {R"({"format":"larder-mmap","version":1,"kind":"array","dtype":"<f8","shape":[2,3],)"
       R"("length":2,"extendable":true,"fill_value":null,"checksum":{"algorithm":"xxh3-64",)"
       R"("block_bytes":4096,"blocks":["9b44816bdf8d0c0d"]},"attrs":{"u":"m"},"array_attrs":{}})",
       R"({"format":"larder-mmap","version":1,"kind":"array","dtype":"|S4","shape":[],)"
       R"("length":1,"extendable":false,"fill_value":"ab","checksum":{"algorithm":"xxh3-64",)"
       R"("block_bytes":4194304,"blocks":["0000000000000000"]}})",
       R"({"format":"larder-mmap","version":2,"kind":"array","commit_sequence":12,)"
       R"("dtype":"<i8","shape":[0,4],"length":0,"extendable":true,"fill_value":null,)"
       R"("checksum":{"algorithm":"xxh3-64","block_bytes":4194304,"blocks":[]}})"});
  // mmap commit files, raw (byte 0 even): both slots valid, one torn, one
  // never written; and sealed slots (byte 0 odd; see the fuzzer).
  {
    namespace mmap = larder::store::mmap;
    const auto commit_file = [](const std::vector<mmap::Commit>& commits, bool tear_last) {
      std::vector<std::uint8_t> bytes(1 + mmap::kCommitFileBytes, 0);
      for (std::size_t i = 0; i < commits.size(); ++i) {
        const auto slot = mmap::format_commit_slot(commits[i]);
        std::memcpy(bytes.data() + 1 + mmap::commit_slot_offset(commits[i].sequence), slot.data(),
                    slot.size());
        if (tear_last && i + 1 == commits.size())
          bytes[1 + mmap::commit_slot_offset(commits[i].sequence) + 30] ^= 0x5a;
      }
      return bytes;
    };
    const auto sealed = [](std::uint8_t array, std::uint64_t data_bytes, std::uint64_t sums_bytes,
                           const mmap::Commit& c) {
      std::vector<std::uint8_t> bytes{array};
      for (const std::uint64_t w : {data_bytes, sums_bytes, c.sequence, c.rows, c.full_blocks,
                                    c.tail_checksum, c.row_bytes}) {
        bytes.resize(bytes.size() + 8);
        std::memcpy(bytes.data() + bytes.size() - 8, &w, 8);
      }
      return bytes;
    };
    const mmap::Commit a{
        .sequence = 7, .rows = 700, .full_blocks = 1, .tail_checksum = 0x1234, .row_bytes = 24};
    const mmap::Commit b{
        .sequence = 8, .rows = 900, .full_blocks = 5, .tail_checksum = 0x9876, .row_bytes = 24};
    int i = 0;
    for (const auto& seed :
         {commit_file({a, b}, false), commit_file({a, b}, true), commit_file({a}, false),
          // array byte 0x1d: "<i4" x 3 (12-byte rows), blocks of 4096, extendable
          sealed(
              0x1d, 1 << 20, 64,
              {.sequence = 3, .rows = 1000, .full_blocks = 2, .tail_checksum = 5, .row_bytes = 12}),
          sealed(0x1d, 100, 64, {.sequence = 4, .rows = 1000, .row_bytes = 12}),
          sealed(0x01, 0, 0, {.sequence = 1})}) {
      write(root / "fuzz_parse_mmap_commit", i++, seed.data(), seed.size());
    }
  }
  // Ragged offsets: the starting record, the values' length, the offsets.
  const auto offsets_seed = [](std::uint8_t first, std::int64_t items,
                               std::vector<std::int64_t> offsets) {
    std::vector<std::uint8_t> bytes{first};
    bytes.resize(9 + offsets.size() * 8);
    std::memcpy(bytes.data() + 1, &items, 8);
    std::memcpy(bytes.data() + 9, offsets.data(), offsets.size() * 8);
    return bytes;
  };
  int k = 0;
  for (const auto& seed : {offsets_seed(0, 10, {0, 3, 3, 7, 10}), offsets_seed(3, 40, {12, 20, 39}),
                           offsets_seed(0, 5, {0, 6})}) {
    write(root / "fuzz_check_ragged_offsets", k++, seed.data(), seed.size());
  }
  // Samplers: n (2 bytes), flags, seed (8), block size (2), window, world
  // size, epoch (4), big-endian.
  const std::vector<std::vector<std::uint8_t>> sampler_seeds{
      {0x03, 0xe8, 0x02, 0, 0, 0, 0, 0, 0, 0, 7, 0, 9, 5, 4, 0, 0, 0, 1},
      {0x00, 0x11, 0x19, 1, 2, 3, 4, 5, 6, 7, 8, 0, 3, 3, 6, 0, 0, 0, 0},
      {0x01, 0x00, 0x0a, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 3, 0, 0, 0, 2}};
  k = 0;
  for (const auto& seed : sampler_seeds)
    write(root / "fuzz_loader_sampler", k++, seed.data(), seed.size());
  write_texts(
      root / "fuzz_parse_zarr_metadata",
      {R"({"chunks": [2, 2], "compressor": {"blocksize": 0, "clevel": 5, "cname": "lz4", )"
       R"("id": "blosc", "shuffle": 1}, "dtype": "<f4", "fill_value": "NaN", "filters": null, )"
       R"("order": "C", "shape": [5, 3], "zarr_format": 2})",
       R"({"chunks": [4], "compressor": {"id": "zstd", "level": 1}, "dimension_separator": "/", )"
       R"("dtype": ">i8", "fill_value": -3, "filters": null, "order": "F", "shape": [10], )"
       R"("zarr_format": 2})",
       R"({"chunks": [], "compressor": null, "dtype": "|S5", "fill_value": "YWI=", )"
       R"("filters": null, "order": "C", "shape": [], "zarr_format": 2})",
       R"({"chunks": [3], "compressor": {"id": "lz4", "acceleration": 1}, "dtype": "<c8", )"
       R"("fill_value": ["NaN", 1.0], "filters": [], "order": "C", "shape": [7], )"
       R"("zarr_format": 2})"});
  return 0;
}
