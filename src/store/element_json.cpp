#include "larder/store/element_json.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstring>
#include <limits>

#include "larder/core/array.h"
#include "larder/core/error.h"

namespace larder::store {
namespace {

// IEEE 754 binary16 (numpy's float16) as a double.
double half_to_double(std::uint16_t h) {
  const int exponent = (h >> 10) & 0x1f;
  const int fraction = h & 0x3ff;
  double v;
  if (exponent == 0) {
    v = std::ldexp(fraction, -24);  // subnormal
  } else if (exponent == 31) {
    v = fraction != 0 ? std::numeric_limits<double>::quiet_NaN()
                      : std::numeric_limits<double>::infinity();
  } else {
    v = std::ldexp(fraction + 1024, exponent - 25);
  }
  return (h & 0x8000) != 0 ? -v : v;
}

// The binary16 nearest to `v` (ties to even), as numpy's float16(v) gives.
std::uint16_t double_to_half(double v) {
  const std::uint16_t sign = std::signbit(v) ? 0x8000 : 0;
  if (std::isnan(v)) return static_cast<std::uint16_t>(sign | 0x7e00);
  const double a = std::fabs(v);
  if (a == 0) return sign;
  if (a >= 65520.0) return static_cast<std::uint16_t>(sign | 0x7c00);  // rounds to infinity
  int exponent = 0;
  std::frexp(a, &exponent);  // a = m * 2^exponent, m in [0.5, 1)
  // Units of the last place: 2^-24 for subnormals, else 2^(exponent - 11).
  const int ulp_exponent = std::max(exponent - 11, -24);
  const double units = std::nearbyint(std::ldexp(a, -ulp_exponent));  // ties to even
  const auto m = static_cast<std::uint32_t>(units);
  if (ulp_exponent == -24) {
    return static_cast<std::uint16_t>(sign | m);  // subnormal; 1024 reaches the smallest normal
  }
  // m in [1024, 2048]; 2048 carries into the next binade.
  std::uint32_t biased = static_cast<std::uint32_t>(ulp_exponent + 25);
  std::uint32_t fraction = m;
  if (fraction == 2048) {
    fraction = 1024;
    ++biased;
  }
  return static_cast<std::uint16_t>(sign | (biased << 10) | (fraction - 1024));
}

nlohmann::json nested(const DType& dtype, const Shape& shape, std::size_t axis,
                      const std::byte*& cursor) {
  if (axis == shape.rank()) {
    nlohmann::json v = element_to_json(dtype, cursor);
    cursor += dtype.item_size();
    return v;
  }
  nlohmann::json list = nlohmann::json::array();
  for (std::int64_t i = 0; i < shape[axis]; ++i)
    list.push_back(nested(dtype, shape, axis + 1, cursor));
  return list;
}

}  // namespace

nlohmann::json array_to_json(ArrayView values) {
  const Array packed = Array::copy_of(values);
  const std::byte* cursor = packed.data();
  return nested(packed.dtype(), packed.shape(), 0, cursor);
}

std::vector<std::byte> element_from_json(const DType& dtype, const nlohmann::json& value) {
  std::vector<std::byte> out(dtype.item_size(), std::byte{0});
  if (value.is_null()) return out;
  auto store = [&]<class T>(T v) { std::memcpy(out.data(), &v, sizeof(T)); };
  const auto bad = [&] {
    return Error(ErrorCode::invalid_argument,
                 fmt::format("fill value {} does not fit dtype {}", value.dump(), dtype.name()));
  };
  switch (dtype.kind()) {
    case DTypeKind::boolean:
      if (!value.is_boolean() && !value.is_number()) throw bad();
      store(static_cast<std::uint8_t>(value.is_boolean() ? value.get<bool>()
                                                         : value.get<double>() != 0));
      break;
    case DTypeKind::int_:
    case DTypeKind::uint: {
      if (!value.is_number_integer()) throw bad();
      const std::uint64_t v = value.is_number_unsigned()
                                  ? value.get<std::uint64_t>()
                                  : static_cast<std::uint64_t>(value.get<std::int64_t>());
      std::memcpy(out.data(), &v, dtype.item_size());  // little-endian: low bytes first
      break;
    }
    case DTypeKind::float_:
      if (!value.is_number()) throw bad();
      if (dtype.item_size() == 4)
        store(value.get<float>());
      else if (dtype.item_size() == 8)
        store(value.get<double>());
      else
        store(double_to_half(value.get<double>()));
      break;
    case DTypeKind::complex: {
      // A number (imaginary part 0) or [real, imag].
      const bool pair =
          value.is_array() && value.size() == 2 && value[0].is_number() && value[1].is_number();
      if (!value.is_number() && !pair) throw bad();
      const double re = pair ? value[0].get<double>() : value.get<double>();
      const double im = pair ? value[1].get<double>() : 0.0;
      if (dtype.item_size() == 8)
        store(std::complex<float>(static_cast<float>(re), static_cast<float>(im)));
      else
        store(std::complex<double>(re, im));
      break;
    }
    case DTypeKind::string: {
      if (!value.is_string()) throw bad();
      const auto s = value.get<std::string>();
      std::memcpy(out.data(), s.data(), std::min(s.size(), out.size()));
      break;
    }
    case DTypeKind::vstring:
      throw bad();
  }
  if (dtype.byte_order() == ByteOrder::big) byteswap(out.data(), 1, dtype);
  return out;
}

nlohmann::json element_to_json(const DType& dtype, const std::byte* element) {
  std::byte native[16] = {};
  std::memcpy(native, element, std::min<std::size_t>(dtype.item_size(), sizeof native));
  if (dtype.byte_order() == ByteOrder::big && dtype.kind() != DTypeKind::string)
    byteswap(native, 1, dtype);
  const std::byte* p = dtype.kind() == DTypeKind::string ? element : native;
  auto load = [p]<class T>(T) {
    T v;
    std::memcpy(&v, p, sizeof(T));
    return v;
  };
  switch (dtype.kind()) {
    case DTypeKind::boolean:
      return load(std::uint8_t{}) != 0;
    case DTypeKind::int_: {
      std::int64_t v = 0;
      std::memcpy(&v, p, dtype.item_size());
      const int shift = 64 - 8 * static_cast<int>(dtype.item_size());
      return shift > 0 ? (v << shift) >> shift : v;  // sign-extend
    }
    case DTypeKind::uint: {
      std::uint64_t v = 0;
      std::memcpy(&v, p, dtype.item_size());
      return v;
    }
    case DTypeKind::float_:
      if (dtype.item_size() == 4) return load(float{});
      if (dtype.item_size() == 8) return load(double{});
      return half_to_double(load(std::uint16_t{}));
    case DTypeKind::complex:
      if (dtype.item_size() == 8) {
        const auto c = load(std::complex<float>{});
        return nlohmann::json::array({c.real(), c.imag()});
      } else {
        const auto c = load(std::complex<double>{});
        return nlohmann::json::array({c.real(), c.imag()});
      }
    case DTypeKind::string: {
      std::string s(reinterpret_cast<const char*>(p), dtype.item_size());
      s.resize(std::min(s.find('\0'), s.size()));
      return s;
    }
    case DTypeKind::vstring:
      return nullptr;
  }
  return nullptr;
}

}  // namespace larder::store
