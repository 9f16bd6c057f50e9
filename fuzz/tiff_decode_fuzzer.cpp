// decode_tiff reads TIFF stacks of any origin (the Data store's imports):
// anything but a TIFF larder reads must be Error(corrupt) or
// (unsupported) — never a crash, a hang or an allocation past the cap.
#include <cstdint>
#include <cstdlib>
#include <span>

#include "larder/core/error.h"
#include "larder/trace/tiff.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  constexpr std::size_t cap = std::size_t{16} << 20;
  try {
    const larder::Array stack =
        larder::trace::decode_tiff(std::as_bytes(std::span(data, size)), "fuzz.tif", cap);
    if (stack.nbytes() > cap || (stack.rank() != 3 && stack.rank() != 4)) std::abort();
  } catch (const larder::Error& e) {
    if (e.code() != larder::ErrorCode::corrupt && e.code() != larder::ErrorCode::unsupported)
      std::abort();
  }
  return 0;
}
