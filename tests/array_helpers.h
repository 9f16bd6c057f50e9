// Arrays from and to std::vector, for tests that read like examples.
#pragma once

#include <utility>
#include <vector>

#include "larder/core/array.h"

namespace larder::testing {

// `values` as an array of `shape` (as many elements).
template <class T>
Array array_of(std::vector<T> values, Shape shape) {
  return Array::from_values<T>(values).reshaped(std::move(shape));
}

// The elements of any view (strided or not) in C order.
template <class T>
std::vector<T> values_of(ArrayView view) {
  const Array copy = Array::copy_of(view);
  const auto v = copy.values<T>();
  return {v.begin(), v.end()};
}

}  // namespace larder::testing
