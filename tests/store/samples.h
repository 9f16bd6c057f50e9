// Test data of every dtype, and comparisons that ignore byte order, for the
// store suites that run against every driver.
#pragma once

#include <gtest/gtest.h>

#include <complex>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "larder/core/array.h"
#include "larder/core/error.h"

namespace larder::testing {

// The dtypes a driver with these abilities stores.
inline std::vector<DType> sample_dtypes(bool float16, bool complex, bool big_endian,
                                        bool fixed_strings) {
  std::vector<DType> out{DType::boolean(), DType::int8(),    DType::int16(),  DType::int32(),
                         DType::int64(),   DType::uint8(),   DType::uint16(), DType::uint32(),
                         DType::uint64(),  DType::float32(), DType::float64()};
  if (float16) out.push_back(DType::float16());
  if (complex) {
    out.push_back(DType::complex64());
    out.push_back(DType::complex128());
  }
  if (big_endian) {
    out.push_back(DType::from_string(">i4"));
    out.push_back(DType::from_string(">f8"));
  }
  if (fixed_strings) out.push_back(DType::string(5));
  return out;
}

// A small non-negative integer (below 2048) as IEEE binary16 bits.
inline std::uint16_t half_bits(int k) {
  if (k == 0) return 0;
  int e = 0;
  while ((k >> (e + 1)) != 0)
    ++e;
  return static_cast<std::uint16_t>(((e + 15) << 10) | (((k << 10) >> e) & 0x3ff));
}

// Distinct values of `dtype` (in its byte order), varying with `seed`.
inline Array sample(const DType& dtype, const Shape& shape, int seed = 0) {
  Array a = Array::zeros(dtype, shape);
  const std::size_t item = dtype.item_size();
  for (std::int64_t i = 0; i < a.num_elements(); ++i) {
    std::byte* p = a.data() + static_cast<std::size_t>(i) * item;
    const auto put = [p]<class T>(T v) { std::memcpy(p, &v, sizeof v); };
    switch (dtype.kind()) {
      case DTypeKind::boolean:
        put(static_cast<std::uint8_t>((i + seed) % 3 == 0));
        break;
      case DTypeKind::int_:
      case DTypeKind::uint: {
        std::int64_t v = (i * 7 + seed) % 101;
        if (dtype.kind() == DTypeKind::int_ && i % 2 == 1) v = -v;
        std::memcpy(p, &v, item);  // little-endian: the low bytes
        break;
      }
      case DTypeKind::float_:
        if (item == 2) put(half_bits(static_cast<int>((i * 3 + seed) % 1000)));
        if (item == 4) put(static_cast<float>(i) * 0.5f + static_cast<float>(seed));
        if (item == 8) put(static_cast<double>(i) * 0.25 - seed);
        break;
      case DTypeKind::complex:
        if (item == 8)
          put(std::complex<float>(static_cast<float>(i), -0.5f * static_cast<float>(i + seed)));
        if (item == 16)
          put(std::complex<double>(static_cast<double>(i + seed), -0.25 * static_cast<double>(i)));
        break;
      case DTypeKind::string: {
        const std::string s = "s" + std::to_string(i * 3 + seed);
        std::memcpy(p, s.data(), std::min(s.size(), item));
        break;
      }
      case DTypeKind::vstring:
        break;
    }
  }
  if (!dtype.is_native()) byteswap(a.data(), static_cast<std::size_t>(a.num_elements()), dtype);
  return a;
}

// A copy of `a` in native byte order.
inline Array native(const Array& a) {
  Array out = a.clone();
  if (out.dtype().is_native()) return out;
  byteswap(out.data(), static_cast<std::size_t>(out.num_elements()), out.dtype());
  return Array::adopt(out.dtype().native(), out.shape(), out.buffer());
}

// Equal dtypes (either byte order), shapes and values.
inline ::testing::AssertionResult same(const Array& a, const Array& b) {
  const Array x = native(a), y = native(b);
  if (x.dtype() != y.dtype()) {
    return ::testing::AssertionFailure()
           << "dtypes " << x.dtype().name() << " and " << y.dtype().name();
  }
  if (x.shape() != y.shape()) {
    return ::testing::AssertionFailure()
           << "shapes " << x.shape().to_string() << " and " << y.shape().to_string();
  }
  if (!std::equal(x.bytes().begin(), x.bytes().end(), y.bytes().begin()))
    return ::testing::AssertionFailure() << "different values of dtype " << x.dtype().name();
  return ::testing::AssertionSuccess();
}

// The Error `f` raises; a call that raises nothing fails the test.
inline Error error_from(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "no error raised";
  return Error(ErrorCode::io, "no error raised");
}

}  // namespace larder::testing
