#include "offsets.h"

#include <fmt/format.h>

#include "larder/core/error.h"

namespace larder::ragged {

void check_offsets(std::span<const std::int64_t> offsets, std::int64_t first, std::int64_t items,
                   const std::string& file, const std::string& path) {
  if (first == 0 && !offsets.empty() && offsets[0] != 0) {
    throw Error(ErrorCode::corrupt, fmt::format("offsets start at {}, not 0", offsets[0]), file,
                path);
  }
  std::int64_t previous = 0;
  for (std::size_t i = 0; i < offsets.size(); ++i) {
    const std::int64_t o = offsets[i];
    if (o < previous || o > items) {
      throw Error(ErrorCode::corrupt,
                  fmt::format("offset {} of record {} {} (values hold {} items)", o,
                              first + static_cast<std::int64_t>(i),
                              o < previous ? fmt::format("is below the one before, {}", previous)
                                           : std::string("points past the values"),
                              items),
                  file, path);
    }
    previous = o;
  }
}

}  // namespace larder::ragged
