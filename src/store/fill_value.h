// Fill values as JSON (a number, a bool, or a string for S types) and as
// one element's bytes, shared by the store drivers.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <vector>

#include "larder/core/dtype.h"

namespace larder::store {

// One element's bytes, in `dtype`'s byte order; null gives zeros.
// Error(invalid_argument) for a value the dtype cannot hold.
std::vector<std::byte> fill_element(const DType& dtype, const nlohmann::json& value);

// The JSON value of one element stored in `dtype`'s byte order.
nlohmann::json fill_json(const DType& dtype, const std::byte* element);

}  // namespace larder::store
