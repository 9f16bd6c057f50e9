// DType::from_string reads dtype strings from files (zarr .zarray, npy headers).
#include <cstdint>
#include <string_view>

#include "larder/core/dtype.h"
#include "larder/core/error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const larder::DType dtype = larder::DType::from_string(text);
    (void)dtype.name();
    (void)dtype.numpy_str();
  } catch (const larder::Error&) {
  }
  return 0;
}
