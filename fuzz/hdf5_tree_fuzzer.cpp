// parse_hdf5_tree reads HDF5 files of any origin without libhdf5: anything
// it does not read must give std::nullopt (the caller's cue to use libhdf5),
// never a crash, a hang, a read outside the bytes or a tree larger than they
// can describe; what it returns must be self-consistent. The same bytes go
// to parse_hdf5_chunk_index, for the object header at the address their
// last 8 bytes give (seeds end with a chunked dataset's).
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>

#include "larder/store/hdf5_tree.h"

namespace {

void check(const larder::store::Hdf5TreeNode& node) {
  using larder::DTypeKind;
  if (node.kind == larder::store::NodeKind::group) {
    for (const auto& member : node.members) {
      if (member.name.empty()) std::abort();
      check(member);
    }
    return;
  }
  const auto count = static_cast<std::size_t>(node.shape.num_elements());
  const bool strings =
      node.dtype.kind() == DTypeKind::string || node.dtype.kind() == DTypeKind::vstring;
  if (strings && node.strings.size() != count) std::abort();
  if (!strings && (!node.data || node.data->shape() != node.shape ||
                   node.data->nbytes() != count * node.dtype.item_size())) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto bytes = std::as_bytes(std::span(data, size));
  const auto tree = larder::store::parse_hdf5_tree(bytes);
  if (tree) check(*tree);
  if (size >= 8) {
    std::uint64_t header = 0;
    std::memcpy(&header, data + size - 8, 8);  // little-endian hosts only, as larder
    constexpr std::size_t kMaxChunks = 4096;
    const auto index = larder::store::parse_hdf5_chunk_index(bytes, header, kMaxChunks);
    if (index) {
      if (index->chunks.size() > kMaxChunks || index->chunk_shape.empty()) std::abort();
      for (const auto& chunk : index->chunks) {
        if (chunk.offset.size() != index->chunk_shape.size() || chunk.size == 0 ||
            chunk.address > size) {
          std::abort();
        }
      }
    }
  }
  return 0;
}
