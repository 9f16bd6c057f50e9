// parse_hdf5_tree reads HDF5 files of any origin without libhdf5: anything
// it does not read must give std::nullopt (the caller's cue to use libhdf5),
// never a crash, a hang, a read outside the bytes or a tree larger than they
// can describe; what it returns must be self-consistent.
#include <cstdint>
#include <cstdlib>
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
  const auto tree = larder::store::parse_hdf5_tree(std::as_bytes(std::span(data, size)));
  if (tree) check(*tree);
  return 0;
}
