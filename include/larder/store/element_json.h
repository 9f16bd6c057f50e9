// One element of a fixed-size dtype as JSON, and back: fill values and the
// elements of array attributes, for every store driver. Numbers, bools,
// strings for S types; a complex number is [real, imag]. Free functions:
// thread-safe.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <vector>

#include "larder/core/array_view.h"
#include "larder/core/dtype.h"

namespace larder::store {

// One element's bytes, in `dtype`'s byte order; null gives zeros.
// Error(invalid_argument) naming the value for one the dtype cannot hold.
std::vector<std::byte> element_from_json(const DType& dtype, const nlohmann::json& value);

// The JSON value of one element stored in `dtype`'s byte order.
nlohmann::json element_to_json(const DType& dtype, const std::byte* element);

// A whole array as nested JSON lists of its elements (a scalar for rank 0).
nlohmann::json array_to_json(ArrayView values);

}  // namespace larder::store
