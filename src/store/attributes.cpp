#include "larder/store/attributes.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "larder/store/element_json.h"

namespace larder::store {
namespace {

nlohmann::json nested(const Array& a, std::size_t axis, const std::byte*& cursor) {
  if (axis == a.rank()) {
    nlohmann::json v = element_to_json(a.dtype(), cursor);
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
