// Selection::parse reads numpy-style index text from users.
#include <cstdint>
#include <string_view>

#include "larder/core/error.h"
#include "larder/core/selection.h"
#include "larder/core/shape.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const larder::Selection selection = larder::Selection::parse(text);
    (void)selection.to_string();
    (void)selection.result_shape(larder::Shape{10, 7, 3});
  } catch (const larder::Error&) {
  }
  return 0;
}
