// ArrayView / MutableArrayView — a non-owning, strided window on N-D data.
//
// A view holds a pointer, a dtype, a shape and byte strides (negative ones
// too). It never owns memory: the caller keeps the underlying buffer alive
// for as long as the view is used. Views are cheap to copy; reading through
// the same view from several threads is safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <type_traits>
#include <vector>

#include "larder/core/dtype.h"
#include "larder/core/error.h"
#include "larder/core/shape.h"

namespace larder {

class Selection;

template <class Byte>
class BasicArrayView {
  static_assert(std::is_same_v<std::remove_const_t<Byte>, std::byte>);

 public:
  // A C-contiguous view.
  BasicArrayView(Byte* data, DType dtype, Shape shape)
      : data_(data),
        dtype_(dtype),
        shape_(std::move(shape)),
        strides_(c_strides(shape_, dtype.item_size())) {}
  BasicArrayView(Byte* data, DType dtype, Shape shape, std::vector<std::int64_t> strides);

  // A mutable view converts to a read-only one, never the other way.
  template <class Other>
  requires(std::is_const_v<Byte> && !std::is_const_v<Other>)
      BasicArrayView(const BasicArrayView<Other>& other)  // NOLINT: implicit by design
      : data_(other.data()),
        dtype_(other.dtype()),
        shape_(other.shape()),
        strides_(other.strides().begin(), other.strides().end()) {}

  Byte* data() const noexcept { return data_; }
  const DType& dtype() const noexcept { return dtype_; }
  const Shape& shape() const noexcept { return shape_; }
  std::span<const std::int64_t> strides() const noexcept { return strides_; }
  std::size_t rank() const noexcept { return shape_.rank(); }
  std::int64_t num_elements() const noexcept { return shape_.num_elements(); }
  // Bytes the elements occupy when packed (not the span the strides cover).
  std::size_t nbytes() const noexcept {
    return static_cast<std::size_t>(num_elements()) * dtype_.item_size();
  }
  bool is_contiguous() const noexcept;

  // The elements as a flat span; the view must be C-contiguous and of T's dtype.
  template <class T>
  std::span<std::conditional_t<std::is_const_v<Byte>, const T, T>> values() const {
    check_typed(dtype_of<T>(), true);
    using Elem = std::conditional_t<std::is_const_v<Byte>, const T, T>;
    return {reinterpret_cast<Elem*>(data_), static_cast<std::size_t>(num_elements())};
  }

  // Element at a full N-D index (bounds checked).
  template <class T>
  T at(std::initializer_list<std::int64_t> index) const {
    check_typed(dtype_of<T>(), false);
    T value;
    std::memcpy(&value, data_ + offset_of(index), sizeof(T));
    return value;
  }

  // A view of the selected elements when every axis selects a regular
  // pattern (indices, slices); Error(unsupported) for index lists or masks —
  // use take() for those, which copies.
  BasicArrayView select(const Selection& selection) const;

 private:
  void check_typed(const DType& wanted, bool need_contiguous) const;
  std::int64_t offset_of(std::initializer_list<std::int64_t> index) const;

  Byte* data_;
  DType dtype_;
  Shape shape_;
  std::vector<std::int64_t> strides_;
};

using ArrayView = BasicArrayView<const std::byte>;
using MutableArrayView = BasicArrayView<std::byte>;

extern template class BasicArrayView<const std::byte>;
extern template class BasicArrayView<std::byte>;

}  // namespace larder
