#include "larder/core/array_view.h"

#include <fmt/format.h>

#include "larder/core/selection.h"

namespace larder {

template <class Byte>
BasicArrayView<Byte>::BasicArrayView(Byte* data, DType dtype, Shape shape,
                                     std::vector<std::int64_t> strides)
    : data_(data), dtype_(dtype), shape_(std::move(shape)), strides_(std::move(strides)) {
  if (strides_.size() != shape_.rank()) {
    throw Error(ErrorCode::invalid_argument,
                fmt::format("{} strides given for shape {}", strides_.size(), shape_.to_string()));
  }
  if (!dtype_.is_fixed_size()) {
    throw Error(ErrorCode::unsupported,
                fmt::format("a view of dtype {} has no flat layout", dtype_.name()));
  }
}

template <class Byte>
bool BasicArrayView<Byte>::is_contiguous() const noexcept {
  if (num_elements() == 0) return true;
  std::int64_t expected = static_cast<std::int64_t>(dtype_.item_size());
  for (std::size_t i = shape_.rank(); i-- > 0;) {
    if (shape_[i] != 1 && strides_[i] != expected) return false;
    expected *= shape_[i];
  }
  return true;
}

template <class Byte>
void BasicArrayView<Byte>::check_typed(const DType& wanted, bool need_contiguous) const {
  if (wanted != dtype_.native() || !dtype_.is_native()) {
    throw Error(ErrorCode::type_mismatch, fmt::format("array of dtype {} read as {}",
                                                      dtype_.numpy_str(), wanted.numpy_str()));
  }
  if (need_contiguous && !is_contiguous()) {
    throw Error(ErrorCode::invalid_argument,
                "a strided view has no flat span of values; copy it with Array::copy_of first");
  }
}

template <class Byte>
std::int64_t BasicArrayView<Byte>::offset_of(std::initializer_list<std::int64_t> index) const {
  if (index.size() != rank()) {
    throw Error(
        ErrorCode::invalid_argument,
        fmt::format("{} indices given for an array of shape {}", index.size(), shape_.to_string()));
  }
  std::int64_t offset = 0;
  std::size_t axis = 0;
  for (std::int64_t i : index) {
    if (i < 0 || i >= shape_[axis]) {
      throw Error(ErrorCode::out_of_range,
                  fmt::format("index {} is out of range for axis {} with extent {}", i, axis,
                              shape_[axis]));
    }
    offset += i * strides_[axis];
    ++axis;
  }
  return offset;
}

template <class Byte>
BasicArrayView<Byte> BasicArrayView<Byte>::select(const Selection& selection) const {
  const auto axes = selection.resolve(shape_);
  Byte* data = data_;
  std::vector<std::int64_t> dims;
  std::vector<std::int64_t> strides;
  bool empty = false;
  for (std::size_t i = 0; i < axes.size(); ++i) {
    const auto& a = axes[i];
    if (a.is_list) {
      throw Error(ErrorCode::unsupported,
                  fmt::format("selection '{}' picks a list of indices on axis {}: it cannot be a "
                              "view; use take()",
                              selection.to_string(), i));
    }
    empty = empty || a.count == 0;
    if (!empty) data += a.start * strides_[i];
    if (!a.drops_axis) {
      dims.push_back(a.count);
      strides.push_back(a.step * strides_[i]);
    }
  }
  return BasicArrayView(empty ? data_ : data, dtype_, Shape(std::move(dims)), std::move(strides));
}

template class BasicArrayView<const std::byte>;
template class BasicArrayView<std::byte>;

}  // namespace larder
