#include "fixed_strings.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "larder/core/error.h"

namespace larder::store {

std::vector<std::string> unpack_fixed_strings(const Array& values) {
  const std::size_t item = values.dtype().item_size();
  const auto n = static_cast<std::size_t>(values.num_elements());
  std::vector<std::string> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const char* p = reinterpret_cast<const char*>(values.data()) + i * item;
    out.emplace_back(p, std::find(p, p + item, '\0'));
  }
  return out;
}

Array pack_fixed_strings(const DType& dtype, const std::vector<std::string>& values,
                         const Shape& shape, const std::string& file, const std::string& path) {
  if (static_cast<std::int64_t>(values.size()) != shape.num_elements()) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("{} strings given for a selection of {} elements", values.size(),
                            shape.num_elements()),
                file, path);
  }
  const std::size_t item = dtype.item_size();
  Array packed = Array::zeros(dtype, shape);
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (values[i].size() > item) {
      throw Error(
          ErrorCode::invalid_argument,
          fmt::format("a string of {} bytes does not fit dtype {}", values[i].size(), dtype.name()),
          file, path);
    }
    std::memcpy(packed.data() + i * item, values[i].data(), values[i].size());
  }
  return packed;
}

}  // namespace larder::store
