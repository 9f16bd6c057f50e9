#include "fill_value.h"

#include <fmt/format.h>

#include <algorithm>
#include <complex>
#include <cstring>

#include "larder/core/error.h"

namespace larder::store {

std::vector<std::byte> fill_element(const DType& dtype, const nlohmann::json& value) {
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
      else if (value.get<double>() != 0)
        throw bad();  // float16: only 0
      break;
    case DTypeKind::complex:
      if (!value.is_number()) throw bad();
      if (dtype.item_size() == 8)
        store(std::complex<float>(value.get<float>(), 0));
      else
        store(std::complex<double>(value.get<double>(), 0));
      break;
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

nlohmann::json fill_json(const DType& dtype, const std::byte* element) {
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
      return 0;
    case DTypeKind::complex:
      return dtype.item_size() == 8 ? static_cast<double>(load(float{})) : load(double{});
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
