#include "larder/store/attributes.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "larder/store/element_json.h"

namespace larder::store {

nlohmann::json Attributes::get_json(std::string_view name) const {
  AttributeValue value = get(name);
  if (auto* json = std::get_if<nlohmann::json>(&value)) return std::move(*json);
  return array_to_json(std::get<Array>(value));
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
