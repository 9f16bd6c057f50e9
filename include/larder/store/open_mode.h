// OpenMode — how Store::open treats the file, with h5py's letters:
// "r" read only; "r+" read and write, must exist; "w" create, truncating
// anything there; "w-" (or "x") create, failing if it exists; "a" read and
// write, creating it if missing.
#pragma once

#include <string_view>

namespace larder::store {

enum class OpenMode { read, read_write, truncate, create_new, append };

// Error(invalid_argument) naming the text for anything but the letters above.
OpenMode parse_open_mode(std::string_view text);
std::string_view to_string(OpenMode mode) noexcept;
bool is_writable(OpenMode mode) noexcept;

}  // namespace larder::store
