#include "larder/core/shape.h"

#include <fmt/format.h>

#include "larder/core/error.h"

namespace larder {

Shape::Shape(std::initializer_list<std::int64_t> dims) : dims_(dims) {
  validate();
}
Shape::Shape(std::vector<std::int64_t> dims) : dims_(std::move(dims)) {
  validate();
}
Shape::Shape(std::span<const std::int64_t> dims) : dims_(dims.begin(), dims.end()) {
  validate();
}

void Shape::validate() {
  count_ = 1;
  for (std::size_t axis = 0; axis < dims_.size(); ++axis) {
    const std::int64_t extent = dims_[axis];
    if (extent < 0) {
      throw Error(
          ErrorCode::invalid_argument,
          fmt::format("shape {}: axis {} has negative extent {}", to_string(), axis, extent));
    }
    if (extent != 0 && count_ > INT64_MAX / extent) {
      throw Error(ErrorCode::invalid_argument,
                  fmt::format("shape {} has more than 2^63 elements", to_string()));
    }
    count_ *= extent;
  }
}

Shape Shape::with(std::size_t axis, std::int64_t extent) const {
  if (axis >= dims_.size()) {
    throw Error(ErrorCode::out_of_range,
                fmt::format("axis {} does not exist in shape {}", axis, to_string()));
  }
  std::vector<std::int64_t> dims = dims_;
  dims[axis] = extent;
  return Shape(std::move(dims));
}

Shape Shape::without_first() const {
  if (dims_.empty()) {
    throw Error(ErrorCode::invalid_argument, "a scalar shape () has no rows");
  }
  return Shape(std::span<const std::int64_t>(dims_).subspan(1));
}

std::string Shape::to_string() const {
  if (dims_.size() == 1) return fmt::format("({},)", dims_[0]);
  return fmt::format("({})", fmt::join(dims_, ", "));
}

std::vector<std::int64_t> c_strides(const Shape& shape, std::size_t item_size) {
  std::vector<std::int64_t> strides(shape.rank());
  std::int64_t stride = static_cast<std::int64_t>(item_size);
  for (std::size_t i = shape.rank(); i-- > 0;) {
    strides[i] = stride;
    stride *= std::max<std::int64_t>(shape[i], 1);
  }
  return strides;
}

}  // namespace larder
