// A whole HDF5 file read by larder itself, without libhdf5: its groups,
// datasets and attributes, for files in the layouts libhdf5 and h5py write
// by default or with libver="latest" / track_order=True (superblock 0 to 3,
// version 1 or 2 object headers, symbol-table or compact link-message
// groups, contiguous or compact data without filters). It serves loaders that read
// many small files at once, such as a sweep's outputs: one read per file, no
// handles, and no global lock, so files load in parallel.
//
// Anything outside that subset, and any damage, gives std::nullopt: the
// caller then opens the file with libhdf5, which reads it or explains what is
// wrong. What it returns equals what the HDF5 driver gives for the same file.
// Free functions; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "larder/core/array.h"
#include "larder/store/node.h"

namespace larder::store {

struct Hdf5TreeNode {
  std::string name;  // empty for the root group
  NodeKind kind = NodeKind::group;
  // The user's attributes in name order, each as Attributes::get_json gives
  // it: strings marked as JSON text are parsed, larder's marker list is left
  // out.
  std::vector<std::pair<std::string, nlohmann::json>> attrs;
  // A group's members in name order (the root's private '.larder' group
  // never appears: a file that has one is left to libhdf5).
  std::vector<Hdf5TreeNode> members;
  // A dataset's dtype and shape, and its values: `strings` (C order) for
  // string dtypes, `data` for numbers and booleans when asked for.
  DType dtype = DType::uint8();
  Shape shape;
  std::optional<Array> data;
  std::vector<std::string> strings;
};

struct Hdf5TreeOptions {
  bool numbers = true;  // read numeric datasets' values, not only their dtype and shape
  // read_hdf5_tree reads a file up to this size in one call; a larger one
  // piece by piece (its metadata, and the values it copies).
  std::uint64_t whole_file_bytes = std::uint64_t{1} << 20;
};

// The tree of the HDF5 file whose bytes are `file`.
std::optional<Hdf5TreeNode> parse_hdf5_tree(std::span<const std::byte> file,
                                            const Hdf5TreeOptions& options = {});

// The tree of the HDF5 file at `path`; std::nullopt also when it cannot be
// read.
std::optional<Hdf5TreeNode> read_hdf5_tree(const std::filesystem::path& path,
                                           const Hdf5TreeOptions& options = {});

// One stored chunk of a chunked dataset, as the dataset's chunk index lists it.
struct Hdf5StoredChunk {
  std::vector<std::uint64_t> offset;  // the element offset of its first element, per axis
  std::uint64_t address = 0;          // relative to the base address, as libhdf5 gives it
  std::uint64_t size = 0;             // stored (filtered) bytes
  std::uint32_t filter_mask = 0;      // filters skipped for this chunk
};

struct Hdf5ChunkIndex {
  std::vector<std::uint64_t> chunk_shape;  // per axis, in elements
  std::vector<Hdf5StoredChunk> chunks;     // every stored chunk, in index order
};

// The whole chunk index of the dataset whose object header lies at address
// `object_header` (as H5Oget_info gives it), read in one walk rather than a
// libhdf5 lookup per chunk. Version 1 B-tree indexes (layout message version
// 3: what libhdf5 writes unless asked for the latest format) only; any other
// index, more than `max_chunks` chunks, or any damage gives std::nullopt.
std::optional<Hdf5ChunkIndex> parse_hdf5_chunk_index(std::span<const std::byte> file,
                                                     std::uint64_t object_header,
                                                     std::size_t max_chunks);
// The same, reading the file open on `fd` piece by piece.
std::optional<Hdf5ChunkIndex> read_hdf5_chunk_index(int fd, std::uint64_t object_header,
                                                    std::size_t max_chunks);

}  // namespace larder::store
