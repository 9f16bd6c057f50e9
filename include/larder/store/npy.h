// numpy's own files: .npy (one array) and .npz (a zip of .npy members, stored
// or deflated), read into Arrays and written from them.
//
// Read: format versions 1 to 3, any fixed-size dtype larder has (bool,
// integers, floats, complex, byte strings), C or Fortran order, either byte
// order; the result is always C-ordered and native-endian. Object arrays
// (pickles), structured and unicode dtypes are refused with
// Error(unsupported): nothing is ever unpickled. Damaged bytes give
// Error(corrupt) naming the file and, in an .npz, the member. A file is read
// once, straight into the result (an .npz member is inflated into it).
// Free functions without shared state, safe from any thread.
#pragma once

#include <cstddef>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "larder/core/array.h"

namespace larder::store {

Array read_npy(const std::filesystem::path& file);
// The bytes of an .npy file; `origin` names them in errors.
Array parse_npy(std::span<const std::byte> bytes, std::string_view origin);

// The members of an .npz in archive order, named without ".npy".
std::vector<std::pair<std::string, Array>> read_npz(const std::filesystem::path& file);
std::vector<std::pair<std::string, Array>> parse_npz(std::span<const std::byte> bytes,
                                                     std::string_view origin);

// Writes a version 1.0 .npy (2.0 when the header needs it), atomically
// (a temporary beside `file`, then renamed). Error(unsupported) for
// variable-length strings.
void write_npy(const std::filesystem::path& file, ArrayView a);
std::vector<std::byte> encode_npy(ArrayView a);

}  // namespace larder::store
