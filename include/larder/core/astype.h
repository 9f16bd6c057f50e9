// Converting numbers from one dtype to another, as numpy's astype does:
// integers wrap, floats truncate toward zero into integers, anything non-zero
// is true. Where numpy leaves a result to the platform (a NaN or an
// out-of-range float into an integer) larder gives the integer type's
// minimum, what numpy gives on x86-64. Thread-safe; the result is new.
#pragma once

#include "larder/core/array.h"

namespace larder {

// `values` (any byte order, any strides) as a C-ordered array of `dtype` in
// native order. Numbers and bools only: Error(type_mismatch) naming both
// dtypes for strings, float16 and complex.
Array astype(ArrayView values, const DType& dtype);

// Whether astype() converts between these two dtypes.
bool can_astype(const DType& from, const DType& to) noexcept;

}  // namespace larder
