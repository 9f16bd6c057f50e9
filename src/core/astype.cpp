#include "larder/core/astype.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

#include "larder/core/error.h"

namespace larder {
namespace {

bool convertible(const DType& d) noexcept {
  switch (d.kind()) {
    case DTypeKind::boolean:
    case DTypeKind::int_:
    case DTypeKind::uint:
      return true;
    case DTypeKind::float_:
      return d.item_size() == 4 || d.item_size() == 8;
    default:
      return false;
  }
}

// Calls f(T{}) with T the C++ type of a convertible dtype.
template <class F>
void with_type(const DType& d, F&& f) {
  const auto size = d.item_size();
  switch (d.kind()) {
    case DTypeKind::boolean:
      return f(bool{});
    case DTypeKind::int_:
      if (size == 1) return f(std::int8_t{});
      if (size == 2) return f(std::int16_t{});
      if (size == 4) return f(std::int32_t{});
      return f(std::int64_t{});
    case DTypeKind::uint:
      if (size == 1) return f(std::uint8_t{});
      if (size == 2) return f(std::uint16_t{});
      if (size == 4) return f(std::uint32_t{});
      return f(std::uint64_t{});
    default:
      if (size == 4) return f(float{});
      return f(double{});
  }
}

template <class To, class From>
To convert(From x) noexcept {
  if constexpr (std::is_same_v<To, bool>) {
    return x != From{};
  } else if constexpr (std::is_floating_point_v<From> && std::is_integral_v<To>) {
    // A float outside To's range (or NaN) has no defined conversion in C++.
    constexpr auto low = static_cast<long double>(std::numeric_limits<To>::min());
    constexpr auto high = static_cast<long double>(std::numeric_limits<To>::max());
    const auto wide = static_cast<long double>(x);
    if (!(wide > low - 1) || !(wide < high + 1)) {
      if constexpr (std::is_signed_v<To>) return std::numeric_limits<To>::min();
      // numpy on x86-64 goes through int64 for unsigned targets.
      if (std::isnan(x) || !(wide > -9.3e18L) || !(wide < 9.3e18L)) return To{0};
      return static_cast<To>(static_cast<std::int64_t>(x));
    }
    return static_cast<To>(x);
  } else if constexpr (std::is_integral_v<From> && std::is_integral_v<To>) {
    // Two's complement wrap, as numpy does (defined since C++20).
    return static_cast<To>(x);
  } else {
    return static_cast<To>(x);
  }
}

}  // namespace

bool can_astype(const DType& from, const DType& to) noexcept {
  return convertible(from) && convertible(to);
}

Array astype(ArrayView values, const DType& dtype) {
  if (!can_astype(values.dtype(), dtype)) {
    throw Error(ErrorCode::type_mismatch, "cannot convert " + values.dtype().name() + " to " +
                                              dtype.name() + ": numbers and bools only");
  }
  const DType target = dtype.native();
  const Array source = packed_as(values, values.dtype().native());
  Array out = Array::empty(target, source.shape());
  const auto n = static_cast<std::size_t>(source.num_elements());
  with_type(source.dtype(), [&](auto from) {
    using From = decltype(from);
    with_type(target, [&](auto to) {
      using To = decltype(to);
      const auto* in = reinterpret_cast<const From*>(source.data());
      auto* result = reinterpret_cast<To*>(out.data());
      if constexpr (std::is_same_v<From, To>) {
        if (n > 0) std::memcpy(result, in, n * sizeof(From));
      } else if constexpr (std::is_same_v<From, bool>) {
        // Read as bytes: a stored bool other than 0 or 1 is still true.
        const auto* bytes = reinterpret_cast<const std::uint8_t*>(in);
        for (std::size_t i = 0; i < n; ++i)
          result[i] = static_cast<To>(bytes[i] != 0);
      } else {
        for (std::size_t i = 0; i < n; ++i)
          result[i] = convert<To>(in[i]);
      }
    });
  });
  return out;
}

}  // namespace larder
