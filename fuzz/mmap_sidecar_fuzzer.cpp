// parse_sidecar reads the JSON sidecar of every array of an mmap store
// (NAME.json): anything but a valid sidecar must be Error(corrupt), and a
// parsed one must never promise more bytes than its checksums cover.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "../src/store/mmap/sidecar.h"
#include "larder/core/error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const auto sidecar = larder::store::mmap::parse_sidecar(text, "fuzz.json");
    const std::uint64_t blocks =
        (sidecar.committed_bytes() + sidecar.block_bytes - 1) / sidecar.block_bytes;
    if (blocks != sidecar.checksums.size()) std::abort();
    (void)larder::store::mmap::format_sidecar(sidecar);
  } catch (const larder::Error& e) {
    if (e.code() != larder::ErrorCode::corrupt) std::abort();
  }
  return 0;
}
