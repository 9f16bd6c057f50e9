// parse_array_metadata reads the .zarray of every zarr array larder opens:
// anything but valid zarr v2 metadata must be Error(corrupt) or, for zarr
// that larder does not read, Error(unsupported); parsed metadata must keep
// chunks within the size larder allocates and survive being written back.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "../src/store/zarr/metadata.h"
#include "larder/core/error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace zarr = larder::store::zarr;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const auto meta = zarr::parse_array_metadata(text, "fuzz/.zarray");
    if (meta.chunks.size() != meta.shape.rank()) std::abort();
    if (meta.chunk_bytes() > zarr::kMaxChunkBytes) std::abort();
    if (meta.fill.size() != meta.dtype.item_size()) std::abort();
    for (const auto extent : meta.grid()) {
      if (extent < 0) std::abort();
    }
    const auto again = zarr::parse_array_metadata(zarr::format_array_metadata(meta), "again");
    if (!(again.shape == meta.shape) || again.chunks != meta.chunks ||
        !(again.dtype == meta.dtype) || !(again.codec == meta.codec) ||
        again.separator != meta.separator || again.fortran_order != meta.fortran_order)
      std::abort();
  } catch (const larder::Error& e) {
    if (e.code() != larder::ErrorCode::corrupt && e.code() != larder::ErrorCode::unsupported)
      std::abort();
  }
  return 0;
}
