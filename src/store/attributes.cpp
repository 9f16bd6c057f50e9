#include "larder/store/attributes.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <complex>

namespace larder::store {
namespace {

// One element of a numeric array as JSON.
nlohmann::json element(const std::byte* p, const DType& dtype) {
  auto load = [p]<class T>(T) {
    T v;
    std::memcpy(&v, p, sizeof(T));
    return v;
  };
  switch (dtype.kind()) {
    case DTypeKind::boolean:
      return load(std::uint8_t{}) != 0;
    case DTypeKind::int_:
      switch (dtype.item_size()) {
        case 1:
          return load(std::int8_t{});
        case 2:
          return load(std::int16_t{});
        case 4:
          return load(std::int32_t{});
        default:
          return load(std::int64_t{});
      }
    case DTypeKind::uint:
      switch (dtype.item_size()) {
        case 1:
          return load(std::uint8_t{});
        case 2:
          return load(std::uint16_t{});
        case 4:
          return load(std::uint32_t{});
        default:
          return load(std::uint64_t{});
      }
    case DTypeKind::float_:
      if (dtype.item_size() == 4) return load(float{});
      if (dtype.item_size() == 8) return load(double{});
      return nullptr;  // float16 has no JSON form here
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

nlohmann::json nested(const Array& a, std::size_t axis, const std::byte*& cursor) {
  if (axis == a.rank()) {
    nlohmann::json v = element(cursor, a.dtype());
    cursor += a.dtype().item_size();
    return v;
  }
  nlohmann::json list = nlohmann::json::array();
  for (std::int64_t i = 0; i < a.shape()[axis]; ++i)
    list.push_back(nested(a, axis + 1, cursor));
  return list;
}

}  // namespace

nlohmann::json Attributes::get_json(std::string_view name) const {
  AttributeValue value = get(name);
  if (auto* json = std::get_if<nlohmann::json>(&value)) return std::move(*json);
  const Array& a = std::get<Array>(value);
  Array native = Array::copy_of(a);
  if (!native.dtype().is_native()) {
    byteswap(native.data(), static_cast<std::size_t>(native.num_elements()), native.dtype());
  }
  const std::byte* cursor = native.data();
  return nested(native, 0, cursor);
}

Error Attributes::missing(std::string_view name, const std::string& file,
                          const std::string& path) const {
  const auto existing = names();
  return Error(
      ErrorCode::not_found,
      fmt::format("no attribute '{}' (attributes: {})", name,
                  existing.empty() ? "none" : fmt::format("{}", fmt::join(existing, ", "))),
      file, path);
}

}  // namespace larder::store
