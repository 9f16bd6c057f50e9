// The check every offsets block read from storage passes before it is used:
// offsets that decrease, start past 0 or point past the values are Error(corrupt),
// never a read out of bounds.
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace larder::ragged {

// `offsets` are those of records first, first + 1, ...; record 0's offset
// must be 0, and none may decrease or exceed `items` (the values' length).
// Error(corrupt) naming the file, the path and the first bad value.
void check_offsets(std::span<const std::int64_t> offsets, std::int64_t first, std::int64_t items,
                   const std::string& file, const std::string& path);

}  // namespace larder::ragged
