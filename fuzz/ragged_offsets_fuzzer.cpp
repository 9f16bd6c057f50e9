// check_offsets guards every offsets block a ragged array reads from storage
// (larder's, memmpy's): bytes that pass must describe records that lie
// inside the values, which reading each record through Records checks
// under AddressSanitizer; anything else must be Error(corrupt).
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "../src/ragged/offsets.h"
#include "larder/core/error.h"
#include "larder/ragged/ragged.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 9) return 0;
  // Byte 0: which record the block starts at (0 or later); bytes 1-8: the
  // values' length (at most 4096 items); the rest: the offsets.
  const std::int64_t first = data[0] % 2 == 0 ? 0 : data[0];
  std::uint64_t items = 0;
  std::memcpy(&items, data + 1, 8);
  items %= 4097;
  std::vector<std::int64_t> offsets((size - 9) / 8);
  if (!offsets.empty()) std::memcpy(offsets.data(), data + 9, offsets.size() * 8);
  try {
    larder::ragged::check_offsets(offsets, first, static_cast<std::int64_t>(items), "fuzz", "/r");
  } catch (const larder::Error& e) {
    if (e.code() != larder::ErrorCode::corrupt) std::abort();
    return 0;
  }
  if (offsets.empty()) return 0;
  larder::ragged::Records records;
  records.values = larder::Array::zeros(larder::DType::float32(),
                                        larder::Shape{static_cast<std::int64_t>(items)});
  records.offsets = offsets;
  if (first == 0 && offsets[0] != 0) std::abort();
  float sum = 0;
  for (std::int64_t i = 0; i < records.size(); ++i) {
    for (const float v : records[i].values<float>())
      sum += v;
  }
  if (sum != 0) std::abort();
  return 0;
}
