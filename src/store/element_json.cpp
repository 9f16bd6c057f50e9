#include "larder/store/element_json.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstring>
#include <limits>

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

// A double as IEEE 754 binary16, rounded to nearest, ties to even.
std::uint16_t double_to_half(double d) {
  std::uint64_t x;
  std::memcpy(&x, &d, sizeof x);
  const auto sign = static_cast<std::uint16_t>((x >> 48) & 0x8000);
  const std::uint64_t biased = (x >> 52) & 0x7ff;
  std::uint64_t mantissa = x & ((std::uint64_t{1} << 52) - 1);
  if (biased == 0x7ff) return sign | 0x7c00 | (mantissa != 0 ? 0x200 : 0);  // inf, NaN
  const int exponent = static_cast<int>(biased) - 1023 + 15;
  if (exponent >= 31) return sign | 0x7c00;  // too large: infinity
  const auto round = [](std::uint64_t value, int shift) {
    const std::uint64_t kept = value >> shift;
    const std::uint64_t rest = value & ((std::uint64_t{1} << shift) - 1);
    const std::uint64_t half = std::uint64_t{1} << (shift - 1);
    return static_cast<std::uint16_t>(kept +
                                      ((rest > half || (rest == half && (kept & 1) != 0)) ? 1 : 0));
  };
  if (exponent <= 0) {  // a subnormal, or zero
    if (exponent < -10) return sign;
    return sign | round(mantissa | (std::uint64_t{1} << 52), 43 - exponent);
  }
  // A carry out of the mantissa moves into the exponent, as it should.
  return sign | round((static_cast<std::uint64_t>(exponent) << 52) | mantissa, 42);
}

}  // namespace

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
