// Fixed-length byte strings (dtype S<n>: n bytes, NUL padded) to and from
// std::string, for the drivers' read_strings and write_strings. Free
// functions: thread-safe.
#pragma once

#include <string>
#include <vector>

#include "larder/core/array.h"

namespace larder::store {

// Each element of `values` (dtype S<n>, any shape, C order) without its
// trailing NUL padding.
std::vector<std::string> unpack_fixed_strings(const Array& values);

// `values` as an Array of `dtype` (S<n>) and `shape` (values.size()
// elements), each NUL padded. Error(invalid_argument) naming the string's
// length (and `file`, `path`) for one longer than n bytes, or for a count
// that does not match.
Array pack_fixed_strings(const DType& dtype, const std::vector<std::string>& values,
                         const Shape& shape, const std::string& file = {},
                         const std::string& path = {});

}  // namespace larder::store
