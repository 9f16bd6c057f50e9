// Copying groups and datasets between stores, of the same driver or not
// (this is how a memory store is saved to a file, and how data moves
// between memory and storage).
//
// Datasets are copied in row blocks of bounded size (never the whole array
// in memory), with their attributes, dtype, shape, chunks, fill value and
// extendability; a group is copied with everything below it. The target
// must not exist yet; a target path of "" or "/" copies a group's
// attributes and members into `target` itself (none of those members may
// exist there). A copy that fails removes what it made and rethrows. Uses
// the source and target from the calling thread only.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

#include "larder/codec/codec_spec.h"
#include "larder/core/progress.h"
#include "larder/store/group.h"

namespace larder::store {

struct CopyOptions {
  // Re-encode every dataset with this codec; nullopt keeps each one's own
  // (or none, where the source's filters are not one larder codec, or the
  // target driver stores no compression, as mmap and memory).
  std::optional<codec::CodecSpec> codec{};
  std::size_t block_bytes = std::size_t{64} << 20;
  Progress* progress = nullptr;  // advanced by bytes copied
};

void copy(Group& source, std::string_view source_path, Group& target, std::string_view target_path,
          const CopyOptions& options = {});

}  // namespace larder::store
